//! CSV documents (RFC 4180): a header row, CRLF line ends, fields quoted when they hold a comma,
//! a quote or a line break (quotes doubled). Cells a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) are prefixed with `'`, so an
//! exported name such as `=HYPERLINK(...)` stays text (OWASP's CSV injection advice).

use std::borrow::Cow;

fn defused(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn field(value: &str) -> Cow<'_, str> {
    let value = defused(value);
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        value
    }
}

fn line<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    let cells: Vec<Cow<'_, str>> = fields.iter().map(|f| field(f.as_ref())).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// The document: `header`, then every row.
pub fn document<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut out = String::new();
    line(&mut out, &header);
    for row in rows {
        line(&mut out, row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        let rows = [
            ["plain".to_owned(), "a,b".to_owned()],
            ["say \"hi\"".to_owned(), "two\nlines".to_owned()],
            [String::new(), "2026-01-31T23:59:59.999999Z".to_owned()],
        ];
        assert_eq!(
            document(["x", "y"], &rows),
            "x,y\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n,2026-01-31T23:59:59.999999Z\r\n"
        );
    }

    #[test]
    fn formulas_are_defused() {
        for (value, cell) in [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(field(value), cell, "{value:?}");
        }
    }
}
