//! Every bundled incident snapshot parses with the current schema.

use std::path::Path;

#[test]
fn every_incident_fixture_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/incidents");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/incidents") {
        let path = entry.unwrap().path().join("snapshot.json");
        if path.exists() {
            sickbay::snapshot::load_snapshot(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n > 0, "no fixtures found");
}
