//! The editor and the grammar, unit by unit, and the editing property.

use super::*;

fn parse(text: impl Into<String>) -> Result<Document, ParseError> {
    Document::parse(text, FileKind::Credentials)
}

fn config(text: impl Into<String>) -> Result<Document, ParseError> {
    Document::parse(text, FileKind::Config)
}

const SAMPLE: &str = "# my keys\r\n[default]\r\naws_access_key_id=AKIAOLD\r\n\
    aws_secret_access_key =   oldsecret  \r\n; note\r\n\r\n[work] # mine\r\nregion =eu-west-1\r\n\
    s3 =\r\n  max_concurrent_requests = 20\r\naws_access_key_id = AKIAWORK\r\n";

#[test]
fn reads_values_and_keys() {
    let doc = parse(SAMPLE).unwrap();
    assert_eq!(doc.get("default", "aws_access_key_id"), Some("AKIAOLD"));
    assert_eq!(
        doc.get("default", "AWS_SECRET_ACCESS_KEY"),
        Some("oldsecret")
    );
    assert_eq!(doc.get("work", "region"), Some("eu-west-1"));
    // A nested value reads as botocore reads it, before it splits it.
    assert_eq!(
        doc.get("work", "s3"),
        Some("\nmax_concurrent_requests = 20")
    );
    assert_eq!(doc.keys("work"), vec!["region", "s3", "aws_access_key_id"]);
    assert_eq!(
        doc.section_names().collect::<Vec<_>>(),
        vec!["default", "work"]
    );
}

#[test]
fn replacing_a_value_changes_only_its_bytes() {
    let mut doc = parse(SAMPLE).unwrap();
    doc.set("default", "aws_secret_access_key", "NEW").unwrap();
    doc.set("default", "aws_access_key_id", "AKIANEW").unwrap();
    assert_eq!(
        doc.text(),
        SAMPLE
            .replace("=   oldsecret  ", "=   NEW  ")
            .replace("=AKIAOLD", "=AKIANEW")
    );
}

#[test]
fn adding_and_removing_keep_line_endings() {
    let mut doc = parse(SAMPLE).unwrap();
    doc.set("work", "credential_process", "x --y").unwrap();
    assert!(
        doc.text()
            .ends_with("aws_access_key_id = AKIAWORK\r\ncredential_process = x --y\r\n")
    );
    assert!(doc.remove("work", "credential_process").unwrap());
    assert_eq!(doc.text(), SAMPLE);
    assert!(doc.remove("work", "s3").unwrap());
    assert!(!doc.text().contains("max_concurrent"));
}

#[test]
fn empty_sections_go_away_with_their_comments() {
    let mut doc = parse("[a]\nk = v\n# about b\n[b]\nx = 1\n").unwrap();
    assert!(!doc.remove_section_if_empty("a").unwrap());
    doc.remove("a", "k").unwrap();
    assert!(doc.remove_section_if_empty("a").unwrap());
    assert_eq!(doc.text(), "[b]\nx = 1\n");
}

#[test]
fn appends_a_section_to_a_file_without_final_newline() {
    let mut doc = parse("[a]\nk = v").unwrap();
    doc.append_section("b", &[("x", "1")]).unwrap();
    assert_eq!(doc.text(), "[a]\nk = v\n\n[b]\nx = 1\n");
    let mut empty = parse("").unwrap();
    empty.append_section("b", &[("x", "1")]).unwrap();
    assert_eq!(empty.text(), "[b]\nx = 1\n");
}

/// Issue 10: botocore ignores what follows a header's `]`, the SDKs
/// a comment there; both read `[work] # my work key` as `work`.
#[test]
fn a_comment_after_a_section_header_is_read() {
    let text = "[work] # my work key\nk = v\n[other];x\n[profile  p]\t; c\n";
    let doc = parse(text).unwrap_err();
    // `[profile  p]` in a credentials file: botocore reads a profile
    // named "profile  p", the SDKs skip it.
    assert_eq!(doc.line, 4, "{doc}");
    let doc = parse(&text[..text.find("[profile").unwrap()]).unwrap();
    assert_eq!(
        doc.section_names().collect::<Vec<_>>(),
        vec!["work", "other"]
    );
    let mut doc = config(text).unwrap();
    assert_eq!(doc.profile_names(), vec!["p"]);
    assert_eq!(doc.profile_section("p"), Some("profile  p"));
    doc.set("work", "k", "w").unwrap();
    doc.set("profile  p", "region", "r").unwrap();
    assert_eq!(
        doc.text(),
        "[work] # my work key\nk = w\n[other];x\n[profile  p]\t; c\nregion = r\n"
    );
}

/// A value continued on indented lines reads as botocore joins it; it
/// is not rewritten, as replacing its first line would keep the rest.
#[test]
fn a_value_on_several_lines_reads_joined_and_is_not_rewritten() {
    let text = "[a]\nk = one\n  two\nz = 1\n";
    let mut doc = parse(text).unwrap();
    assert_eq!(doc.get("a", "k"), Some("one\ntwo"));
    assert_eq!(
        doc.set("a", "k", "x"),
        Err(EditError::MultiLine("k".into()))
    );
    assert_eq!(doc.text(), text);
    assert!(doc.remove("a", "k").unwrap());
    assert_eq!(doc.text(), "[a]\nz = 1\n");
}

/// Where botocore (the AWS CLI) and the AWS SDKs read a file
/// differently, it is refused at the line, with what to change; the
/// line is not quoted.
#[test]
// Long: one table of cases, read top to bottom.
fn what_the_two_readers_read_differently_is_refused_with_the_fix() {
    let cases: &[(FileKind, &str, usize, &str)] = &[
        (
            FileKind::Credentials,
            "[a]\nk: v\n",
            2,
            "write 'name = value'",
        ),
        (
            FileKind::Credentials,
            "[a]\nk = v # note\n",
            2,
            "comment on a line of its own",
        ),
        (
            FileKind::Credentials,
            "[a]\nk = v\n  # note\n",
            3,
            "indented comment",
        ),
        (
            FileKind::Credentials,
            "[a]\n  k = v\n",
            2,
            "remove the indentation",
        ),
        (
            FileKind::Credentials,
            "[a] x\nk = v\n",
            1,
            "nothing after ']' but a comment",
        ),
        (
            FileKind::Credentials,
            "[ a ]\nk = v\n",
            1,
            "no other spaces inside the brackets",
        ),
        (FileKind::Credentials, "[a!]\nk = v\n", 1, "letters, digits"),
        (
            FileKind::Credentials,
            "[a]\nin valid = v\n",
            2,
            "rename or remove it",
        ),
        (
            FileKind::Credentials,
            "[a]\nk = v\n\n  more\n",
            2,
            "joined differently",
        ),
        (
            FileKind::Credentials,
            "[DEFAULT]\nk = v\n[a]\n",
            1,
            "[DEFAULT]",
        ),
        (
            FileKind::Credentials,
            "[a]\nk = \u{a0}v\n",
            2,
            "read this line differently",
        ),
        (
            FileKind::Config,
            "[profile a] # [note]\n",
            1,
            "section header",
        ),
        (
            FileKind::Config,
            "[profile \"a\"]\nk = v\n",
            1,
            "section header",
        ),
        (
            FileKind::Config,
            "[ profile a]\nk = v\n",
            1,
            "section header",
        ),
        (
            FileKind::Config,
            "[profiles a]\nk = v\n",
            1,
            "section header",
        ),
        (
            FileKind::Config,
            "[profile a]\nk = 1\n[profile  a]\nj = 2\n",
            3,
            "merge them into one",
        ),
        (
            FileKind::Config,
            "[profile default]\nk = 1\n[default]\nj = 2\n",
            3,
            "merge them into one",
        ),
        (
            FileKind::Config,
            "[profile a]\ns3 =\n  x\n",
            2,
            "must each be 'name = value'",
        ),
        (
            FileKind::Config,
            "[profile a]\ns3 =\n  = x\n",
            3,
            "must each be 'name = value'",
        ),
        (
            FileKind::Config,
            "\u{feff}[profile a]\n",
            1,
            "byte-order mark",
        ),
    ];
    for &(kind, text, line, needle) in cases {
        let err = Document::parse(text, kind).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.message.contains(needle), "{text:?}: {err}");
        assert!(
            !err.message.contains("note") && !err.message.contains("in valid"),
            "{err}"
        );
    }
    // Where they agree, the file is read: `[profile default]` last wins
    // for both, and a config section without the prefix is no profile
    // for either.
    let doc = config("[default]\nk = 1\n[profile default]\nj = 2\n[work]\nx = 1\n").unwrap();
    assert_eq!(doc.profile_names(), vec!["default"]);
    assert_eq!(doc.profile_section("default"), Some("profile default"));
}

#[test]
fn set_on_a_key_without_value_inserts_in_place() {
    let mut doc = parse("[a]\nk =\nz = 1\n").unwrap();
    doc.set("a", "k", "v").unwrap();
    assert_eq!(doc.text(), "[a]\nk =v\nz = 1\n");
}

#[test]
fn refuses_malformed_files_with_the_line() {
    let cases = [
        ("k = v\n", 1, "before any [section]"),
        ("[a]\njunk\n", 2, "expected"),
        ("[a\n", 1, "must end with"),
        ("[a]\n[a]\n", 2, "appears twice"),
        ("[a]\nk=1\nK=2\n", 3, "set twice"),
        ("[a]\n= v\n", 2, "no name"),
    ];
    for (text, line, needle) in cases {
        let err = parse(text).unwrap_err();
        assert_eq!(err.line, line, "{text:?}");
        assert!(err.message.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn error_messages_do_not_quote_the_line() {
    let secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY";
    for text in [
        format!("[a]\n{secret}\n"),
        format!("[a]\naws_secret_access_key {secret}\n"),
        format!("[{secret}\n"),
        format!("{secret}=\n"),
        format!("[a]\n{secret}: 1\n{secret}: 2\n"),
    ] {
        let err = parse(text.clone()).unwrap_err().to_string();
        assert!(!err.contains(&secret[..5]), "{text:?}: {err}");
    }
    // Setting names are shown: they are what the user needs to find.
    let err = parse("[a]\nregion = x\nREGION = y\n").unwrap_err();
    assert!(err.to_string().contains("'REGION' is set twice"), "{err}");
    let err = parse("aws_access_key_id = x\n").unwrap_err();
    assert!(err.to_string().contains("'aws_access_key_id'"), "{err}");
}

/// Found by the editors' fuzz contract: a lone CR ends a line for the
/// AWS CLI (Python's universal newlines) but not for the SDKs, which
/// split at LF only. Where that changes what they read, the file is
/// refused; inside a comment it changes nothing, and an added line
/// ends in LF.
#[test]
fn a_lone_cr_is_refused_where_the_readers_split_lines_differently() {
    let err = parse("[a]\r _ = \r;\rk = v\r").unwrap_err();
    assert_eq!(err.line, 1, "{err}");
    assert!(err.message.contains("carriage return"), "{err}");
    let mut doc = parse("# a\r# b\n[a]\nk = v\n").unwrap();
    doc.set("a", "k", "w").unwrap();
    doc.set("a", "new", "x").unwrap();
    assert_eq!(doc.text(), "# a\r# b\n[a]\nk = w\nnew = x\n");
}

#[test]
fn section_names_that_would_inject_sections_are_refused() {
    let mut doc = parse("[a]\nk = v\n").unwrap();
    for bad in ["b]\n[evil", "b]", "[b", "b\rc", " b", "b ", "", "b\u{0}c"] {
        assert_eq!(
            doc.append_section(bad, &[("k", "v")]),
            Err(EditError::BadSection),
            "{bad:?}"
        );
    }
    assert_eq!(doc.text(), "[a]\nk = v\n");
    // In the config file, a section no reader takes for a profile.
    let mut doc = config("[a]\nk = v\n").unwrap();
    doc.append_section("profile dev$(touch${IFS}x) 'q'", &[("k", "v")])
        .unwrap();
    // The SDKs cut a header at ';': the file would break for them.
    assert!(matches!(
        doc.append_section("profile dev;x", &[("k", "v")]),
        Err(EditError::Broke(_))
    ));
}

#[test]
fn values_with_line_breaks_are_refused() {
    let mut doc = parse("[a]\nk = v\n").unwrap();
    assert_eq!(doc.set("a", "k", "x\n[b]"), Err(EditError::BadValue));
    assert_eq!(doc.text(), "[a]\nk = v\n");
}
