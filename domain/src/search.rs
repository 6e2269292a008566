//! Search (DESIGN §8): how text becomes index terms, which indexed terms a query word may mean
//! (typo tolerance), and how a found document ranks. Pure: the index and its vocabulary live in
//! persistence; this module decides.
//!
//! Terms are lower-cased runs of letters and digits, with Latin diacritics folded (`José` is
//! `jose`). A query word of 1–2 letters matches exactly; of 3–7 letters also any term within one
//! edit; of 8 or more within two. Edits are insertions, deletions, substitutions and
//! transpositions of adjacent letters (optimal string alignment: `jhon` is one edit from `john`).
//! The last word of a query also matches as a prefix (`kath` finds `katherine`), so results
//! follow a user as they type.

use std::collections::BTreeSet;

/// What search finds. Catalog types are shared by every account; the others are the
/// caller's own account's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SearchType {
    Workspace,
    Program,
    HelpTopic,
    User,
    Invoice,
    SupportRequest,
    Order,
}

impl SearchType {
    pub const ALL: [SearchType; 7] = [
        SearchType::Workspace,
        SearchType::Program,
        SearchType::HelpTopic,
        SearchType::User,
        SearchType::Invoice,
        SearchType::SupportRequest,
        SearchType::Order,
    ];

    pub const fn id(self) -> &'static str {
        match self {
            SearchType::Workspace => "workspace",
            SearchType::Program => "program",
            SearchType::HelpTopic => "help_topic",
            SearchType::User => "user",
            SearchType::Invoice => "invoice",
            SearchType::SupportRequest => "support_request",
            SearchType::Order => "order",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.id() == id)
    }

    /// Shared by every account (not an account's own object).
    pub const fn is_catalog(self) -> bool {
        matches!(
            self,
            SearchType::Workspace | SearchType::Program | SearchType::HelpTopic
        )
    }

    /// The position among equal ranks: catalog entries first, in [`Self::ALL`] order.
    pub fn ordinal(self) -> usize {
        Self::ALL
            .iter()
            .position(|kind| *kind == self)
            .unwrap_or(Self::ALL.len())
    }
}

/// Longest query, in characters after trimming.
pub const MAX_QUERY_CHARS: usize = 200;

/// Most words a query may have: each one is an AND clause of the index query and is compared
/// with the vocabulary.
pub const MAX_QUERY_WORDS: usize = 10;

/// Most vocabulary terms one word expands to; the closest are kept.
pub const MAX_TYPO_TERMS: usize = 20;

/// The lower-cased, diacritic-folded letter-and-digit runs of `text`, in order, repeats kept.
pub fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            for lower in c.to_lowercase() {
                fold_into(lower, &mut current);
            }
        } else if !current.is_empty() {
            terms.push(cut(std::mem::take(&mut current)));
        }
    }
    if !current.is_empty() {
        terms.push(cut(current));
    }
    terms
}

/// Longest indexed term, in characters: nobody searches for longer words, and an unbounded
/// one would not fit a PostgreSQL index entry (a support note may hold a 5,000-letter run).
pub const MAX_TERM_CHARS: usize = 64;

fn cut(term: String) -> String {
    match term.char_indices().nth(MAX_TERM_CHARS) {
        Some((end, _)) => term[..end].to_owned(),
        None => term,
    }
}

/// The distinct terms of `text`, space-separated, as the index stores them.
pub fn index_text(texts: &[&str]) -> String {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for text in texts {
        for term in terms(text) {
            if seen.insert(term.clone()) {
                out.push(term);
            }
        }
    }
    out.join(" ")
}

/// Folds the Latin-1 and Latin Extended-A letters people type without their accents.
fn fold_into(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ţ' | 'ť' | 'ŧ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ð' => "d",
        other => {
            out.push(other);
            return;
        }
    };
    out.push_str(folded);
}

/// Edits a query word may be away from a term it matches: none for 1–2 letters (too many
/// words are one edit from a two-letter word), one for 3–7, two from 8.
pub fn allowed_edits(word: &str) -> usize {
    match word.chars().count() {
        0..=2 => 0,
        3..=7 => 1,
        _ => 2,
    }
}

/// The optimal-string-alignment distance between `a` and `b` (a transposition of adjacent
/// characters is one edit), if it is at most `max`; `None` when it is more.
pub fn edit_distance_within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Three rows of the dynamic programme: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = current[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
            row_min = row_min.min(value);
        }
        // Every later cell is at least the smallest of this row.
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[b.len()]).filter(|distance| *distance <= max)
}

/// How a query word met a document term, worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    Typo,
    Prefix,
    Exact,
}

impl MatchKind {
    fn points(self) -> u32 {
        match self {
            MatchKind::Typo => 1,
            MatchKind::Prefix => 2,
            MatchKind::Exact => 3,
        }
    }
}

/// One query word and what it may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordPlan {
    pub word: String,
    /// The last word of the query: terms it begins also match.
    pub prefix: bool,
    /// Vocabulary terms within the word's allowed edits (the word itself excluded), closest
    /// first.
    pub typos: Vec<String>,
}

impl WordPlan {
    /// How `term` matches this word, if it does.
    pub fn matches(&self, term: &str) -> Option<MatchKind> {
        if term == self.word {
            Some(MatchKind::Exact)
        } else if self.prefix && term.starts_with(&self.word) {
            Some(MatchKind::Prefix)
        } else if self.typos.iter().any(|typo| typo == term) {
            Some(MatchKind::Typo)
        } else {
            None
        }
    }
}

/// A parsed query: every word must match (AND), each through any of its alternatives (OR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPlan {
    pub words: Vec<WordPlan>,
}

/// Why a query cannot be searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryRefusal {
    /// Empty after trimming, or longer than [`MAX_QUERY_CHARS`].
    Length,
    /// No letter or digit to look for.
    NoTerms,
    /// More than [`MAX_QUERY_WORDS`] distinct words.
    TooManyWords,
}

/// The distinct words of a query, in order, checked against the limits.
pub fn query_words(query: &str) -> Result<Vec<String>, QueryRefusal> {
    let trimmed = query.trim();
    let length = trimmed.chars().count();
    if length == 0 || length > MAX_QUERY_CHARS {
        return Err(QueryRefusal::Length);
    }
    let mut words: Vec<String> = Vec::new();
    for term in terms(trimmed) {
        if !words.contains(&term) {
            words.push(term);
        }
    }
    if words.is_empty() {
        return Err(QueryRefusal::NoTerms);
    }
    if words.len() > MAX_QUERY_WORDS {
        return Err(QueryRefusal::TooManyWords);
    }
    Ok(words)
}

/// The vocabulary terms `word` may mean by a typo: within its allowed edits, not the word
/// itself, closest first (then alphabetical), at most [`MAX_TYPO_TERMS`].
pub fn typo_terms<'a>(word: &str, vocabulary: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let max = allowed_edits(word);
    if max == 0 {
        return Vec::new();
    }
    let mut found: BTreeSet<(usize, &str)> = BTreeSet::new();
    for term in vocabulary {
        if term == word {
            continue;
        }
        if let Some(distance) = edit_distance_within(word, term, max) {
            found.insert((distance, term));
        }
    }
    found
        .into_iter()
        .take(MAX_TYPO_TERMS)
        .map(|(_, term)| term.to_owned())
        .collect()
}

/// Plans `words` (from [`query_words`]) against the vocabulary the caller's index holds.
pub fn plan(words: &[String], vocabulary: &[&str]) -> QueryPlan {
    let last = words.len().saturating_sub(1);
    QueryPlan {
        words: words
            .iter()
            .enumerate()
            .map(|(index, word)| WordPlan {
                word: word.clone(),
                prefix: index == last,
                typos: typo_terms(word, vocabulary.iter().copied()),
            })
            .collect(),
    }
}

/// How well a document matches, and the document terms that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub score: u32,
    pub matched: Vec<String>,
}

/// Weight of a match in the title against one in the rest of the document.
const TITLE_WEIGHT: u32 = 2;
const BODY_WEIGHT: u32 = 1;

/// Ranks a document by its title and body terms, or `None` when a query word matches none of
/// them. Each word scores its best match: exact 3, prefix 2, typo 1 point, doubled in the
/// title; the document's score is the sum, plus 1 when the title is exactly the query's words
/// (so `John` ranks the user "John" above "John Smith").
pub fn rank(plan: &QueryPlan, title: &[&str], body: &[&str]) -> Option<Ranked> {
    let mut score = 0;
    let mut matched: Vec<String> = Vec::new();
    let mut title_exact = 0;
    for word in &plan.words {
        let mut best: Option<(u32, MatchKind, &str)> = None;
        let fields = [(title, TITLE_WEIGHT), (body, BODY_WEIGHT)];
        for (terms, weight) in fields {
            for term in terms {
                if let Some(kind) = word.matches(term) {
                    let points = kind.points() * weight;
                    if best.is_none_or(|(best_points, _, _)| points > best_points) {
                        best = Some((points, kind, term));
                    }
                }
            }
        }
        let (points, kind, term) = best?;
        score += points;
        if kind == MatchKind::Exact && title.contains(&term) {
            title_exact += 1;
        }
        if !matched.iter().any(|m| m == term) {
            matched.push(term.to_owned());
        }
    }
    let distinct_title: BTreeSet<&&str> = title.iter().collect();
    if title_exact == plan.words.len() && distinct_title.len() == plan.words.len() {
        score += 1;
    }
    Some(Ranked { score, matched })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(query: &str, vocabulary: &[&str]) -> QueryPlan {
        plan(&query_words(query).expect("valid query"), vocabulary)
    }

    #[test]
    fn terms_are_cut_to_the_longest_indexed_length() {
        let long = "é".repeat(MAX_TERM_CHARS + 10);
        let cut = terms(&format!("a {long} b"));
        assert_eq!(cut[1].chars().count(), MAX_TERM_CHARS);
        assert_eq!(cut[1], "e".repeat(MAX_TERM_CHARS));
        assert_eq!(
            terms("x".repeat(MAX_TERM_CHARS).as_str())[0].len(),
            MAX_TERM_CHARS
        );
    }

    #[test]
    fn terms_are_lowercase_folded_letter_and_digit_runs() {
        assert_eq!(
            terms("José MÜLLER-Lüdenscheidt, INV-000042 sam.lee@contoso.com"),
            [
                "jose",
                "muller",
                "ludenscheidt",
                "inv",
                "000042",
                "sam",
                "lee",
                "contoso",
                "com"
            ]
        );
        assert_eq!(terms("Straße Æsir"), ["strasse", "aesir"]);
        assert!(terms(" -- !! ").is_empty());
        assert_eq!(
            index_text(&["John Smith", "john@contoso.com"]),
            "john smith contoso com"
        );
    }

    #[test]
    fn short_words_get_no_edit_and_long_words_two() {
        assert_eq!(allowed_edits("jo"), 0);
        assert_eq!(allowed_edits("joh"), 1);
        assert_eq!(allowed_edits("johnsmit"), 2);
        assert_eq!(allowed_edits("johnsmi"), 1);
        // Letters, not bytes.
        assert_eq!(allowed_edits("ßß"), 0);
    }

    #[test]
    fn distance_counts_a_transposition_as_one_edit() {
        assert_eq!(edit_distance_within("jhon", "john", 1), Some(1));
        assert_eq!(edit_distance_within("katharine", "katherine", 2), Some(1));
        assert_eq!(edit_distance_within("john", "john", 0), Some(0));
        assert_eq!(edit_distance_within("jon", "john", 1), Some(1));
        assert_eq!(edit_distance_within("joan", "john", 1), Some(1));
        assert_eq!(edit_distance_within("jhno", "john", 1), None);
        assert_eq!(edit_distance_within("jhno", "john", 2), Some(2));
        assert_eq!(edit_distance_within("abc", "abcdef", 2), None);
        assert_eq!(edit_distance_within("", "ab", 2), Some(2));
    }

    #[test]
    fn a_three_letter_word_reaches_one_edit_not_two() {
        let vocabulary = ["sam", "sem", "sim", "som", "xem", "ms"];
        // "sma" -> "sam" is a transposition (one edit); "sem" needs two.
        assert_eq!(typo_terms("sma", vocabulary), ["sam"]);
        // One letter deleted is one edit from a three-letter word.
        assert_eq!(typo_terms("sam", ["sa", "s"]), ["sa"]);
    }

    #[test]
    fn a_seven_letter_word_reaches_one_edit_and_an_eight_letter_word_two() {
        // Seven letters: one edit allowed, two refused.
        assert_eq!(
            typo_terms("micheal", ["michael", "mikhail", "michel"]),
            ["michael", "michel"]
        );
        assert!(typo_terms("micheal", ["mitchel"]).is_empty());
        // Eight letters: two edits allowed, three refused.
        assert_eq!(typo_terms("kathrynn", ["katheryn"]), ["katheryn"]);
        assert_eq!(typo_terms("katharin", ["katherine"]), ["katherine"]);
        assert!(typo_terms("katharin", ["kathleen"]).is_empty());
    }

    #[test]
    fn two_letter_words_match_exactly_or_as_a_prefix() {
        let plan = plan_of("jo", &["jo", "ja", "joe"]);
        assert!(plan.words[0].typos.is_empty());
        assert_eq!(plan.words[0].matches("jo"), Some(MatchKind::Exact));
        assert_eq!(plan.words[0].matches("joe"), Some(MatchKind::Prefix));
        assert_eq!(plan.words[0].matches("ja"), None);
        // Not the last word: no prefix.
        let plan = plan_of("jo smith", &[]);
        assert_eq!(plan.words[0].matches("joe"), None);
        assert!(plan.words[1].prefix);
    }

    #[test]
    fn typo_terms_keep_the_closest_first_and_are_capped() {
        // 25 terms one edit from "abcdefgh" and one two edits away.
        let mut many: Vec<String> = ('a'..='z')
            .filter(|c| *c != 'h')
            .map(|c| format!("abcdefg{c}"))
            .collect();
        many.push("abcdefxx".to_owned());
        let vocabulary: Vec<&str> = many.iter().map(String::as_str).collect();
        let found = typo_terms("abcdefgh", vocabulary.iter().copied());
        assert_eq!(found.len(), MAX_TYPO_TERMS);
        assert_eq!(found[0], "abcdefga");
        assert!(!found.contains(&"abcdefxx".to_owned()));
    }

    #[test]
    fn query_limits() {
        assert_eq!(query_words("   "), Err(QueryRefusal::Length));
        assert_eq!(query_words(&"a".repeat(201)), Err(QueryRefusal::Length));
        assert!(query_words(&format!("  {}  ", "a".repeat(200))).is_ok());
        assert_eq!(query_words("?!"), Err(QueryRefusal::NoTerms));
        assert_eq!(
            query_words("a b c d e f g h i j k"),
            Err(QueryRefusal::TooManyWords)
        );
        assert_eq!(
            query_words("John JOHN smith").expect("valid"),
            ["john", "smith"]
        );
    }

    #[test]
    fn exact_beats_prefix_beats_typo_and_title_beats_body() {
        let plan = plan_of("john", &["jon", "john", "johnny"]);
        let exact = rank(&plan, &["john", "smith"], &[]).expect("match");
        let prefix = rank(&plan, &["johnny", "smith"], &[]).expect("match");
        let typo = rank(&plan, &["jon", "smith"], &[]).expect("match");
        let body = rank(&plan, &["invoice"], &["john"]).expect("match");
        assert!(exact.score > prefix.score);
        assert!(prefix.score > typo.score);
        assert!(exact.score > body.score);
        assert_eq!(typo.matched, ["jon"]);
        assert_eq!(rank(&plan, &["smith"], &["jane"]), None);
    }

    #[test]
    fn a_title_that_is_exactly_the_query_ranks_first() {
        let plan = plan_of("john", &[]);
        let alone = rank(&plan, &["john"], &[]).expect("match");
        let longer = rank(&plan, &["john", "smith"], &[]).expect("match");
        assert_eq!(alone.score, longer.score + 1);
    }

    #[test]
    fn every_word_must_match() {
        let plan = plan_of("jhon smi", &["john", "smith"]);
        let both = rank(&plan, &["john", "smith"], &[]).expect("match");
        assert_eq!(both.matched, ["john", "smith"]);
        // Typo in the title (1 x 2) plus prefix in the title (2 x 2).
        assert_eq!(both.score, 6);
        assert_eq!(rank(&plan, &["john", "doe"], &[]), None);
    }
}
