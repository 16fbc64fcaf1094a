//! Whole-token matching of key ids and secrets in arbitrary text: the one
//! rule `find` uses to say a file holds a key, and that editing a copy of a
//! key in place must use to say which bytes are the key.

use crate::secret::Secret;

/// Which neighbouring bytes would make an occurrence part of a longer
/// token: one class for the byte before it, one for the byte after.
#[derive(Clone, Copy)]
pub struct Class {
    pub before: fn(u8) -> bool,
    pub after: fn(u8) -> bool,
}

/// Access key ids are upper-case letters and digits, so an id glued to more
/// of them is part of a longer id-like word, not this key; a lower-case
/// letter or any punctuation ends it (`KEY=AKIA...`, quotes, spaces, the
/// `n` of a JSON `\nAKIA...` escape).
pub const ID: Class = Class {
    before: is_id_byte,
    after: is_id_byte,
};

/// Secret access keys are drawn from the base64 alphabet, `[A-Za-z0-9/+]`,
/// and a trailing `=` would be padding: a secret continued by any of those
/// is another value. Before it, `=` is not part of the token: base64 pads
/// only at the end, and `KEY=secret` (dotenv, shell, s3cmd) must count.
pub const SECRET: Class = Class {
    before: is_base64_byte,
    after: is_secret_byte,
};

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+')
}

fn is_secret_byte(b: u8) -> bool {
    is_base64_byte(b) || b == b'='
}

/// Whether `hay[start..end]` stands alone: neither neighbour is a byte that
/// would make it part of a longer token.
pub fn is_whole(hay: &[u8], start: usize, end: usize, class: Class) -> bool {
    let before = start.checked_sub(1).map(|i| hay[i]);
    let after = hay.get(end).copied();
    !before.is_some_and(class.before) && !after.is_some_and(class.after)
}

/// The offsets of every whole-token occurrence of `needle` in `hay`,
/// overlapping occurrences included (a needle holding bytes outside the
/// token class could otherwise hide a whole occurrence inside a partial
/// one). An empty needle occurs nowhere.
pub fn find_whole<'h>(
    hay: &'h [u8],
    needle: &'h [u8],
    class: Class,
) -> impl Iterator<Item = usize> + 'h {
    let finder = memchr::memmem::Finder::new(needle);
    let mut from = 0;
    std::iter::from_fn(move || {
        if needle.is_empty() {
            return None;
        }
        while let Some(i) = finder.find(hay.get(from..)?) {
            let start = from + i;
            from = start + 1;
            if is_whole(hay, start, start + needle.len(), class) {
                return Some(start);
            }
        }
        from = hay.len() + 1;
        None
    })
}

/// Whether `hay` holds `secret` as a whole token.
pub fn holds_secret(hay: &[u8], secret: &Secret) -> bool {
    find_whole(hay, secret.expose().as_bytes(), SECRET)
        .next()
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

    fn ids_in(hay: &str) -> Vec<usize> {
        find_whole(hay.as_bytes(), KEY_ID.as_bytes(), ID).collect()
    }

    #[test]
    fn an_id_counts_only_as_a_whole_token() {
        assert_eq!(ids_in(&format!("KEY={KEY_ID}\n")), vec![4]);
        assert_eq!(ids_in(&format!("\"{KEY_ID}\"")), vec![1]);
        assert_eq!(ids_in(KEY_ID), vec![0]);
        // Inside a JSON string after an escape: the `n` is not an id byte.
        assert_eq!(ids_in(&format!("\\n{KEY_ID}")), vec![2]);
        // Part of a longer id-like word: another key, not this one.
        assert!(ids_in(&format!("X{KEY_ID}")).is_empty());
        assert!(ids_in(&format!("{KEY_ID}9")).is_empty());
        assert_eq!(ids_in(&format!("{KEY_ID}A {KEY_ID}")), vec![22]);
    }

    #[test]
    fn a_secret_counts_only_as_a_whole_token() {
        let secret = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let s = secret.expose();
        assert!(holds_secret(
            format!("secret_key = {s}\n").as_bytes(),
            &secret
        ));
        assert!(holds_secret(format!("'{s}'").as_bytes(), &secret));
        // dotenv, shell and s3cmd assignments: `=` before is not part of it.
        assert!(holds_secret(
            format!("AWS_SECRET_ACCESS_KEY={s}").as_bytes(),
            &secret
        ));
        assert!(holds_secret(
            format!("secret_key={s}\n").as_bytes(),
            &secret
        ));
        assert!(!holds_secret(format!("{s}x").as_bytes(), &secret));
        assert!(!holds_secret(format!("+{s}").as_bytes(), &secret));
        assert!(!holds_secret(format!("{s}=").as_bytes(), &secret));
        assert!(!holds_secret(b"nothing here", &secret));
        assert!(!holds_secret(b"", &Secret::new("")));
    }

    #[test]
    fn overlapping_occurrences_are_all_seen() {
        // The occurrence at 1 is glued to `y`; the one at 3, which overlaps
        // it, stands alone. A non-overlapping search would skip it.
        fn part(b: u8) -> bool {
            b == b'x' || b == b'y'
        }
        let class = Class {
            before: part,
            after: part,
        };
        let found: Vec<usize> = find_whole(b"yx-x-x ", b"x-x", class).collect();
        assert_eq!(found, vec![3]);
    }
}
