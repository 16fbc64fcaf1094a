//! Unit tests of `search`.

#![allow(clippy::disallowed_methods)] // fixtures are written directly

use super::*;

const ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn wanted() -> Vec<Wanted> {
    vec![
        Wanted {
            id: ID.into(),
            secret: Some(Secret::new(SECRET)),
        },
        // Another key whose id starts with this one's.
        Wanted {
            id: format!("{ID}LONGER"),
            secret: None,
        },
    ]
}

fn options() -> Options {
    Options {
        skip: Rules::standard(None),
        exclude: Vec::new(),
        threads: 2,
    }
}

/// The way a rotation will ask: a list of usual files, most of them
/// missing, and a folder that also holds one of them.
#[test]
fn usual_places_missing_files_and_overlapping_roots() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(h.join(".zshrc"), format!("# keys\nexport K={ID}\n")).unwrap();
    std::fs::write(
        h.join(".s3cfg"),
        format!("[default]\naccess_key = {ID}LONGER\nsecret_key = {SECRET}\n"),
    )
    .unwrap();
    let roots = vec![
        h.join(".zshrc"),
        h.join(".bashrc"),
        h.join(".s3cfg"),
        h.to_path_buf(),
    ];
    let report = search(&wanted(), &roots, &options()).unwrap();
    assert_eq!(report.missing, vec![h.join(".bashrc")]);
    let got: Vec<(String, usize, usize, Option<bool>)> = report
        .hits
        .iter()
        .map(|hit| {
            (
                hit.path.file_name().unwrap().to_string_lossy().into_owned(),
                hit.line,
                hit.key,
                hit.secret_in_file,
            )
        })
        .collect();
    // Each copy once, though two roots reach it; the longer id is its
    // own key, not a copy of the shorter one.
    assert_eq!(
        got,
        vec![
            (".s3cfg".into(), 2, 1, None),
            (".zshrc".into(), 2, 0, Some(false)),
        ]
    );
    // A file root is shown as given.
    assert!(report.hits.iter().any(|hit| hit.path == h.join(".zshrc")));
}

#[test]
fn lines_are_counted_whatever_the_order_of_matches() {
    let hay = format!("{ID}LONGER\n\n{ID}\r\n{ID} {ID}\n").into_bytes();
    let ac = AhoCorasick::new([ID, &format!("{ID}LONGER")]).unwrap();
    let found = find_in(&hay, &ac, &wanted());
    assert_eq!(
        found,
        vec![(1, 1, None), (3, 0, Some(false)), (4, 0, Some(false))]
    );
}

#[test]
fn nothing_wanted_reads_nothing() {
    let report = search(&[], &[PathBuf::from("/")], &options()).unwrap();
    assert_eq!(report.files, 0);
}
