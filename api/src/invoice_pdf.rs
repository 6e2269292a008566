//! Invoices and credit notes as real PDFs, written with `pdf-writer`. The text uses the base-14
//! Helvetica fonts in WinAnsi encoding, so nothing is embedded and every reader (and
//! `pdftotext`) can extract it.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

/// Everything printed on the document, already formatted by the caller.
#[derive(Debug, Clone)]
pub struct InvoiceDocument {
    /// "Invoice" or "Credit note".
    pub title: String,
    /// The document number, e.g. "INV-000001".
    pub number: String,
    /// e.g. "2026-11-21".
    pub issued_on: String,
    /// For a credit note: e.g. "Credits invoice INV-000001".
    pub references: Option<String>,
    /// Seller block: the name, then address lines.
    pub seller: Vec<String>,
    /// Buyer block: the legal name, then address lines.
    pub buyer: Vec<String>,
    pub partner_id: String,
    /// (description, amount) per line, amounts formatted like "USD 475.00".
    pub lines: Vec<(String, String)>,
    pub subtotal: String,
    /// The tax line's label, e.g. "Tax (19%)".
    pub tax_label: String,
    pub tax: String,
    pub total: String,
    /// e.g. "Credit card" or "Wire transfer (reference PC-000001-1234567)".
    pub payment_method: String,
}

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const LEFT: f32 = 56.0;
const AMOUNTS: f32 = 430.0;
const BUYER: f32 = 320.0;
/// Characters per printed line; longer text is cut with "..." so nothing leaves the page.
const MAX_CHARS: usize = 70;
/// Characters of a label beside an amount, so it stops short of the amount column.
const LABEL_CHARS: usize = 62;
/// Invoice lines that fit on the page; a longer document says how many were left out.
const MAX_LINES: usize = 25;

/// WinAnsi bytes of `text`: Latin-1 as is, anything else as `?`, cut to `limit` characters.
fn encode(text: &str, limit: usize) -> Vec<u8> {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() > limit {
        chars.truncate(limit.saturating_sub(3));
        chars.extend("...".chars());
    }
    chars
        .into_iter()
        .map(|c| match u32::from(c) {
            code @ (0x20..=0x7e | 0xa0..=0xff) => u8::try_from(code).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// A cursor writing lines of text down the page.
struct Page {
    content: Content,
    y: f32,
}

impl Page {
    fn text(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &str) {
        self.text_cut(font, size, (x, y), text, MAX_CHARS);
    }

    fn text_cut(
        &mut self,
        font: Name<'_>,
        size: f32,
        (x, y): (f32, f32),
        text: &str,
        limit: usize,
    ) {
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&encode(text, limit)))
            .end_text();
    }

    /// One line at the cursor, then down by `step`.
    fn line(&mut self, font: Name<'_>, size: f32, text: &str, step: f32) {
        self.text(font, size, LEFT, self.y, text);
        self.y -= step;
    }

    /// A label and an amount on one line.
    fn amount(&mut self, font: Name<'_>, label: &str, amount: &str) {
        self.text_cut(font, 10.0, (LEFT, self.y), label, LABEL_CHARS);
        self.text(font, 10.0, AMOUNTS, self.y, amount);
        self.y -= 16.0;
    }

    fn rule(&mut self) {
        self.content
            .move_to(LEFT, self.y + 10.0)
            .line_to(540.0, self.y + 10.0)
            .stroke();
        self.y -= 6.0;
    }
}

/// The document as PDF bytes: one A4 page.
pub fn render(document: &InvoiceDocument) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_id = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let contents = Ref::new(6);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0))
        .parent(tree)
        .contents(contents);
    let mut resources = page.resources();
    let mut fonts = resources.fonts();
    fonts.pair(REGULAR, regular).pair(BOLD, bold);
    fonts.finish();
    resources.finish();
    page.finish();
    for (id, name) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    let mut out = Page {
        content: Content::new(),
        y: 780.0,
    };
    out.line(BOLD, 20.0, &document.title, 26.0);
    out.line(REGULAR, 10.0, &format!("Number: {}", document.number), 14.0);
    out.line(
        REGULAR,
        10.0,
        &format!("Issued: {}", document.issued_on),
        14.0,
    );
    if let Some(references) = &document.references {
        out.line(REGULAR, 10.0, references, 14.0);
    }
    out.y -= 14.0;

    // Seller on the left, buyer on the right, from the same height.
    let top = out.y;
    out.line(BOLD, 10.0, "Seller", 14.0);
    for line in &document.seller {
        out.line(REGULAR, 10.0, line, 13.0);
    }
    let seller_bottom = out.y;
    let mut y = top;
    out.text(BOLD, 10.0, BUYER, y, "Buyer");
    for line in document.buyer.iter().chain(std::iter::once(&format!(
        "PartnerID: {}",
        document.partner_id
    ))) {
        y -= 13.0;
        out.text(REGULAR, 10.0, BUYER, y, line);
    }
    out.y = seller_bottom.min(y - 13.0) - 20.0;

    out.amount(BOLD, "Description", "Amount");
    out.rule();
    for (description, amount) in document.lines.iter().take(MAX_LINES) {
        out.amount(REGULAR, description, amount);
    }
    if document.lines.len() > MAX_LINES {
        let more = document.lines.len() - MAX_LINES;
        out.line(REGULAR, 10.0, &format!("... and {more} more lines"), 16.0);
    }
    out.rule();
    out.amount(REGULAR, "Subtotal", &document.subtotal);
    out.amount(REGULAR, &document.tax_label, &document.tax);
    out.amount(BOLD, "Total", &document.total);
    out.y -= 14.0;
    out.line(
        REGULAR,
        10.0,
        &format!("Payment method: {}", document.payment_method),
        14.0,
    );
    pdf.stream(contents, &out.content.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> InvoiceDocument {
        InvoiceDocument {
            title: "Invoice".into(),
            number: "INV-000042".into(),
            issued_on: "2026-11-21".into(),
            references: None,
            seller: vec!["Seller Inc.".into()],
            buyer: vec!["Müller Consulting GmbH".into(), "Berlin".into()],
            partner_id: "1234567".into(),
            lines: vec![("Action Pack".into(), "USD 475.00".into())],
            subtotal: "USD 475.00".into(),
            tax_label: "Tax (19%)".into(),
            tax: "USD 90.25".into(),
            total: "USD 565.25".into(),
            payment_method: "Credit card".into(),
        }
    }

    #[test]
    fn the_output_is_a_whole_pdf_file() {
        let pdf = render(&sample());
        assert!(pdf.starts_with(b"%PDF-"));
        let end = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(8)..]).into_owned();
        assert!(end.trim_end().ends_with("%%EOF"), "{end:?}");
    }

    #[test]
    fn latin_1_is_kept_and_other_scripts_are_replaced() {
        assert_eq!(encode("Müller", 70), b"M\xfcller".to_vec());
        assert_eq!(encode("株式会社", 70), b"????".to_vec());
        assert_eq!(encode("abcdefgh", 6), b"abc...".to_vec());
    }
}
