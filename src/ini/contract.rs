//! The editors' fuzz contract: the one property the fuzz target
//! (`fuzz/fuzz_targets/editors.rs`) and `tests/fuzz_editors.rs` check.

use super::*;

/// The editors' contract, for any input: a parse error, or edits that
/// change nothing but what they edit (or are refused), and text that
/// parses again. Panics on a violation. The first byte picks the edit and
/// (its top bit) the kind of file; the rest is the file. Run by
/// the fuzz target (`fuzz/fuzz_targets/editors.rs`) and, briefly, in CI
/// (`tests/fuzz_editors.rs`).
#[doc(hidden)]
// Long: one match over the kinds of edit, each arm the property of that
// edit; apart, they would each repeat the parse and the value listing.
pub fn check_contract(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = if op & 0x80 == 0 {
        FileKind::Credentials
    } else {
        FileKind::Config
    };
    let Ok(doc) = Document::parse(text, kind) else {
        return;
    };
    let values = |d: &Document| -> Vec<(String, String, String)> {
        d.section_names()
            .flat_map(|s| {
                d.keys(s).into_iter().map(move |k| {
                    (
                        s.to_string(),
                        k.to_ascii_lowercase(),
                        d.get(s, k).unwrap_or("").to_string(),
                    )
                })
            })
            .collect()
    };
    let before = values(&doc);
    let new_value = format!("V{op}/x+y");
    let reparse = |d: &Document| {
        Document::parse(d.text().to_string(), kind).expect("an edited document parses again")
    };
    // An edit may be refused when its result would be read differently
    // by botocore and the SDKs (or, for a value on several lines, always);
    // then nothing changes.
    let refused = |result: Result<(), EditError>, edited: &Document| match result {
        Ok(()) => false,
        Err(EditError::Broke(_) | EditError::MultiLine(_)) => {
            assert_eq!(edited.text(), text, "a refused edit changed the text");
            true
        }
        Err(e) => panic!("unexpected edit error: {e}"),
    };
    match (op % 4, before.get(op as usize / 4 % before.len().max(1))) {
        // Replace an existing value: only its bytes change.
        (0, Some((section, key, old))) => {
            let mut edited = doc.clone();
            let range = edited.entry(section, key).expect("listed").value.clone();
            if refused(edited.set(section, key, &new_value), &edited) {
                return;
            }
            assert_eq!(&text[range.clone()], old.as_str());
            let out = edited.text();
            assert_eq!(&out[..range.start], &text[..range.start]);
            assert_eq!(&out[range.start + new_value.len()..], &text[range.end..]);
            let after = values(&reparse(&edited));
            assert_eq!(after.len(), before.len());
            for ((s1, k1, v1), (s2, k2, v2)) in before.iter().zip(&after) {
                assert_eq!((s1, k1), (s2, k2));
                if (s1, k1) == (section, key) {
                    assert_eq!(v2, &new_value);
                } else {
                    assert_eq!(v1, v2);
                }
            }
        }
        // Remove a key: every other value reads the same.
        (1, Some((section, key, _))) => {
            let mut edited = doc.clone();
            match edited.remove(section, key) {
                Ok(removed) => assert!(removed, "a listed key is removed"),
                Err(e) => {
                    refused(Err(e), &edited);
                    return;
                }
            }
            let after = values(&reparse(&edited));
            let expected: Vec<_> = before
                .iter()
                .filter(|(s, k, _)| (s, k) != (section, key))
                .cloned()
                .collect();
            assert_eq!(after, expected);
        }
        // Add a key to a section: the old values stay, the new one reads back.
        (2, Some((section, _, _))) => {
            let mut edited = doc.clone();
            let key = "aws_rekey_fuzz_added";
            if edited.get(section, key).is_none() {
                if refused(edited.set(section, key, &new_value), &edited) {
                    return;
                }
                let reparsed = reparse(&edited);
                assert_eq!(reparsed.get(section, key), Some(new_value.as_str()));
                let after: Vec<_> = values(&reparsed)
                    .into_iter()
                    .filter(|(s, k, _)| (s, k.as_str()) != (section, key))
                    .collect();
                assert_eq!(after, before);
            }
        }
        // Append a section: the input is a prefix of the output.
        _ => {
            let mut edited = doc.clone();
            let name = match kind {
                FileKind::Credentials => "aws-rekey-fuzz",
                FileKind::Config => "profile aws-rekey-fuzz",
            };
            if !edited.has_section(name) {
                if refused(edited.append_section(name, &[("k", &new_value)]), &edited) {
                    return;
                }
                assert!(edited.text().starts_with(text));
                let reparsed = reparse(&edited);
                assert_eq!(reparsed.get(name, "k"), Some(new_value.as_str()));
            }
        }
    }
}
