//! The TOML parser's messages (serde's), made for the people who write the
//! files: "did you mean" for an unknown key, and no Rust type names.

/// `message` with a suggestion after an unknown key and Rust integer and float
/// type names (`expected u32`) said in words.
pub(crate) fn plain(message: &str) -> String {
    let mut text = message.trim().to_owned();
    if let Some(suggestion) = did_you_mean(&text) {
        text.push_str(&format!(" (did you mean `{suggestion}`?)"));
    }
    for (rust, words) in TYPE_NAMES {
        let from = format!("expected {rust}");
        if let Some(at) = text.find(&from) {
            let end = at + from.len();
            // Whole words only: `expected u32` and not `expected u320`.
            if !text[end..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
                text.replace_range(at..end, &format!("expected {words}"));
            }
        }
    }
    text
}

/// What each Rust number type accepts, in words. Longest names first, so that
/// `u16` is not read as a prefix of something longer.
const TYPE_NAMES: [(&str, &str); 12] = [
    ("usize", "a whole number of 0 or more"),
    ("isize", "a whole number"),
    ("u8", "a whole number from 0 to 255"),
    ("u16", "a whole number from 0 to 65535"),
    ("u32", "a whole number from 0 to 4294967295"),
    ("u64", "a whole number of 0 or more"),
    ("i8", "a whole number from -128 to 127"),
    ("i16", "a whole number from -32768 to 32767"),
    ("i32", "a whole number from -2147483648 to 2147483647"),
    ("i64", "a whole number"),
    ("f32", "a number"),
    ("f64", "a number"),
];

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "expected
/// `a`"): the known key closest to `x`, when it is close enough to be a typo.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (unknown, expected) = rest.split_once('`')?;
    let expected = expected.split_once("expected")?.1;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (strsim::jaro_winkler(unknown, candidate), candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.to_owned())
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn an_unknown_key_close_to_a_known_one_gets_a_suggestion() {
        assert_eq!(
            plain("unknown field `onlien`, expected one of `number`, `name`, `online`"),
            "unknown field `onlien`, expected one of `number`, `name`, `online` \
             (did you mean `online`?)"
        );
        assert_eq!(
            plain("unknown field `zzz`, expected one of `number`, `name`"),
            "unknown field `zzz`, expected one of `number`, `name`",
            "no suggestion when nothing is close"
        );
        assert_eq!(
            plain("unknown variant `mondy`, expected `monday` or `tuesday`"),
            "unknown variant `mondy`, expected `monday` or `tuesday` (did you mean `monday`?)"
        );
    }

    #[test]
    fn rust_type_names_are_said_in_words() {
        assert_eq!(
            plain("invalid value: integer `-3`, expected u32"),
            "invalid value: integer `-3`, expected a whole number from 0 to 4294967295"
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected usize\n"),
            "invalid value: integer `-1`, expected a whole number of 0 or more"
        );
        assert_eq!(plain("expected u320"), "expected u320");
    }
}
