DROP TABLE support_notes;
DROP TABLE support_requests;
DROP TABLE benefits;
DROP TABLE refunds;
DROP TABLE invoices;
DROP TABLE orders;
