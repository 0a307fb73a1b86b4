//! A corpus of odd but realistic XPM documents (`tests/fixtures/odd/*.xml`), modelled on Xero's
//! published examples and on what integrators report real practices holding: dates with zones or
//! in a locale's order, Yes/No written every way, empty and whitespace-only elements, escapes,
//! unknown and reordered elements, CRLF line endings. Each decodes to the JSON beside it
//! (`NAME.json`: the records, then the warnings about values that could not be read).
//!
//! After a deliberate change of the decoder, `HOWNOW_BLESS_CORPUS=1 cargo test -p hownow-xpm
//! --test decode_corpus` rewrites the JSON files; review their diff before committing it.

use std::fs::{self, File};
use std::io::BufReader;
use std::path::PathBuf;

use hownow_xpm::decode::decode_all;

fn corpus() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/odd");
    let mut docs: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    docs.sort();
    docs
}

#[test]
fn every_odd_document_decodes_to_its_expected_json() {
    let docs = corpus();
    assert!(docs.len() >= 10, "the corpus holds {} documents", docs.len());
    let bless = std::env::var_os("HOWNOW_BLESS_CORPUS").is_some();
    for xml in docs {
        let name = xml.display().to_string();
        let decoded = decode_all(BufReader::new(File::open(&xml).unwrap()))
            .unwrap_or_else(|e| panic!("{name}: an odd value must not fail the document: {e}"));
        let got = serde_json::to_value(&decoded).unwrap();
        let expected_path = xml.with_extension("json");
        if bless {
            fs::write(&expected_path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let expected: serde_json::Value = serde_json::from_str(
            &fs::read_to_string(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .unwrap();
        assert_eq!(
            got,
            expected,
            "{name}: got\n{}",
            serde_json::to_string_pretty(&got).unwrap()
        );
    }
}

#[test]
fn the_corpus_carries_warnings_and_documents_without_any() {
    let mut with = 0;
    let mut without = 0;
    for xml in corpus() {
        let decoded = decode_all(BufReader::new(File::open(&xml).unwrap())).unwrap();
        for w in &decoded.warnings {
            assert!(w.raw_value.chars().count() <= 81, "{w:?}");
            assert!(!w.reason.is_empty() && !w.field.is_empty(), "{w:?}");
        }
        if decoded.warnings.is_empty() {
            without += 1;
        } else {
            with += 1;
        }
    }
    assert!(
        with >= 5 && without >= 3,
        "{with} with warnings, {without} without"
    );
}
