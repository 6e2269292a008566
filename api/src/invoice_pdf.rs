//! Invoices and credit notes as real PDFs, written with `pdf-writer`. The text uses the base-14
//! Helvetica fonts in WinAnsi encoding, so no font is embedded and every reader (and
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
    /// For a credit note: e.g. "Credits invoice INV-000001". None for invoices.
    pub references: Option<String>,
    /// Seller block: first line is the name, then address lines.
    pub seller: Vec<String>,
    /// Buyer block: first line is the legal name, then address lines.
    pub buyer: Vec<String>,
    pub partner_id: String,
    /// (description, amount) per line, amounts already formatted like "USD 475.00".
    pub lines: Vec<(String, String)>,
    pub subtotal: String,
    /// Label of the tax line, e.g. "Tax (19%)".
    pub tax_label: String,
    pub tax: String,
    pub total: String,
    /// e.g. "Credit card" or "Wire transfer (reference PC-000001-1234567)".
    pub payment_method: String,
}

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const SIZE: f32 = 10.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = 540.0;
const BUYER: f32 = 320.0;
// Character limits keep text inside its column: Helvetica at 10 pt averages about 5.5 pt a glyph.
/// A full-width line (title excepted, which is larger).
const LINE_CHARS: usize = 85;
/// A seller or buyer line, which shares the width with the other block.
const PARTY_CHARS: usize = 40;
/// A description or label, which stops short of the amounts.
const LABEL_CHARS: usize = 60;
const AMOUNT_CHARS: usize = 20;
// The page has room for this many party lines and invoice lines with the totals still fitting
// above the bottom margin; anything beyond is summarised as "... and N more lines".
const PARTY_LINES: usize = 8;
const INVOICE_LINES: usize = 20;

/// WinAnsi bytes of `text`: Latin-1 as is, anything else as `?`, cut to `limit` characters.
fn encode(text: &str, limit: usize) -> Vec<u8> {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() > limit {
        chars.truncate(limit.saturating_sub(3));
        chars.extend("...".chars());
    }
    chars
        .into_iter()
        .map(|c| match c {
            ' '..='~' | '\u{a0}'..='\u{ff}' => u8::try_from(c).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// Approximate width of WinAnsi `bytes` at `size` in Helvetica (either weight). Exact for the
/// digits and punctuation of amounts, so amounts sharing a currency code align on the right.
fn width(bytes: &[u8], size: f32) -> f32 {
    let units: u32 = bytes
        .iter()
        .map(|byte| match byte {
            b'0'..=b'9' => 556,
            b' ' | b'.' | b',' => 278,
            b'-' => 333,
            _ => 667,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// A cursor writing lines of text down the page.
struct Page {
    content: Content,
    y: f32,
}

impl Page {
    fn show(&mut self, font: Name<'_>, size: f32, (x, y): (f32, f32), bytes: &[u8]) {
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(bytes))
            .end_text();
    }

    fn text(&mut self, font: Name<'_>, (x, y): (f32, f32), text: &str, limit: usize) {
        self.show(font, SIZE, (x, y), &encode(text, limit));
    }

    /// One full-width line at the cursor, then down by `step`.
    fn line(&mut self, font: Name<'_>, text: &str, step: f32) {
        self.text(font, (LEFT, self.y), text, LINE_CHARS);
        self.y -= step;
    }

    /// A label on the left and its amount right-aligned, then down one row.
    fn amount(&mut self, font: Name<'_>, label: &str, amount: &str) {
        self.text(font, (LEFT, self.y), label, LABEL_CHARS);
        let amount = encode(amount, AMOUNT_CHARS);
        let x = RIGHT - width(&amount, SIZE);
        self.show(font, SIZE, (x, self.y), &amount);
        self.y -= 16.0;
    }

    /// A party block at `x` from the cursor's height; returns the height below it.
    fn party(&mut self, x: f32, heading: &str, lines: &[String], partner_id: Option<&str>) -> f32 {
        let mut y = self.y;
        self.text(BOLD, (x, y), heading, PARTY_CHARS);
        let partner = partner_id.map(|id| format!("PartnerID: {id}"));
        for line in lines.iter().take(PARTY_LINES).chain(&partner) {
            y -= 13.0;
            self.text(REGULAR, (x, y), line, PARTY_CHARS);
        }
        y - 13.0
    }

    fn rule(&mut self) {
        self.content
            .move_to(LEFT, self.y + 10.0)
            .line_to(RIGHT, self.y + 10.0)
            .stroke();
        self.y -= 6.0;
    }
}

/// The document as PDF bytes (PDF 1.7, one A4 page).
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
    page.resources()
        .fonts()
        .pair(REGULAR, regular)
        .pair(BOLD, bold);
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
    out.show(BOLD, 20.0, (LEFT, out.y), &encode(&document.title, 40));
    out.y -= 26.0;
    out.line(REGULAR, &format!("Number: {}", document.number), 14.0);
    out.line(REGULAR, &format!("Issued: {}", document.issued_on), 14.0);
    if let Some(references) = &document.references {
        out.line(REGULAR, references, 14.0);
    }
    out.y -= 14.0;

    let seller_bottom = out.party(LEFT, "Seller", &document.seller, None);
    let buyer_bottom = out.party(BUYER, "Buyer", &document.buyer, Some(&document.partner_id));
    out.y = seller_bottom.min(buyer_bottom) - 20.0;

    out.amount(BOLD, "Description", "Amount");
    out.rule();
    for (description, amount) in document.lines.iter().take(INVOICE_LINES) {
        out.amount(REGULAR, description, amount);
    }
    if document.lines.len() > INVOICE_LINES {
        let more = document.lines.len() - INVOICE_LINES;
        out.line(REGULAR, &format!("... and {more} more lines"), 16.0);
    }
    out.rule();
    out.amount(REGULAR, "Subtotal", &document.subtotal);
    out.amount(REGULAR, &document.tax_label, &document.tax);
    out.amount(BOLD, "Total", &document.total);
    out.y -= 14.0;
    out.line(
        REGULAR,
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
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
    }

    #[test]
    fn latin_1_is_kept_and_other_scripts_are_replaced() {
        assert_eq!(encode("Müller GmbH", 90), b"M\xfcller GmbH".to_vec());
        assert_eq!(encode("株式会社", 90), b"????".to_vec());
        assert_eq!(encode("a\tb😀", 90), b"a?b?".to_vec());
        assert_eq!(encode("abcdefgh", 6), b"abc...".to_vec());
    }
}
