//! The editors' fuzz contract (`aws_rekey::ini::check_contract`), run
//! briefly in CI: thousands of generated credentials and config files, of
//! the right shape and of no shape at all, each edited in every way the
//! tool edits. The same contract is the `cargo fuzz` target in `fuzz/`.
//! More cases: `AWS_REKEY_FUZZ_CASES=100000 cargo test --test fuzz_editors`.

// Tests write their fixtures directly; the tool's own code may not.
#![allow(clippy::disallowed_methods)]

use aws_rekey::ini::check_contract;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("AWS_REKEY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// Lines that look like what people write, and (one in ten) some that do
/// not: a file with one of those is often refused, as botocore and the
/// SDKs read it differently (issue 10), so the usual shapes dominate for
/// the edits to be exercised.
fn line() -> impl Strategy<Value = String> {
    let usual = prop_oneof![
        Just(String::new()),
        "[#;][ -~]{0,30}",
        "\\[(profile )?[a-z0-9_-]{1,10}\\]",
        // A comment after a header (issue 10): `[work] # my work key`.
        "\\[(profile )?[a-z0-9_-]{1,10}\\][ \t]{0,2}[#;][ -\\\\^-~]{0,20}",
        "[a-zA-Z_]{1,20}[ \t]{0,3}=[ \t]{0,3}[!-~]{0,40}",
        "(aws_access_key_id|aws_secret_access_key|region|credential_process)[ \t]*=[ \t]*[A-Za-z0-9/+=]{0,40}",
        "[ \t]{1,4}[a-z_]{1,8} = [a-z0-9]{0,8}",
    ];
    let unusual = prop_oneof![
        "[ \t]{0,2}\\[[a-z ]{0,3}(profile )?[a-z0-9_-]{1,10}\\][ \t]{0,2}",
        "\\[(profile )?[a-z0-9_-]{1,10}\\][ \t]{0,2}[#;][ -~]{0,20}",
        "[a-zA-Z_]{1,20}[ \t]{0,3}[=:][ \t]{0,3}[ -~]{0,40}",
        "\\PC{0,30}",
    ];
    prop_oneof![9 => usual, 1 => unusual]
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<u8>(),
        proptest::collection::vec(
            (
                line(),
                prop_oneof![10 => Just("\n"), 6 => Just("\r\n"), 1 => Just("\r")],
            ),
            0..16,
        ),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(op, lines, bom)| {
            let mut data = vec![op];
            if bom {
                data.extend_from_slice("\u{feff}".as_bytes());
            }
            for (l, eol) in lines {
                data.extend_from_slice(l.as_bytes());
                data.extend_from_slice(eol.as_bytes());
            }
            data
        })
}

#[test]
fn shaped_files_keep_the_contract() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&file(), |data| {
            check_contract(&data);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..300), |data| {
            check_contract(&data);
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_seed_corpus_keeps_the_contract() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/editors");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        for op in 0..16u8 {
            let mut input = vec![op];
            input.extend_from_slice(&data);
            check_contract(&input);
        }
        seen += 1;
    }
    assert!(seen >= 3, "the seed corpus in {} is missing", dir.display());
}
