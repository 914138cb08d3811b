//! The floor lockfile-check's speed is measured against (bench/README.md): a whole process
//! that only reads a lock, or reads it and parses it once with serde_json.
//! `parse-floor read|value|typed <package-lock.json>`; prints how many packages it saw.
//! `value` builds a generic JSON tree; `typed` reads each entry's fields lockfile-check
//! needs into owned strings and maps, as lockfile-check does, and skips the rest.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Lock {
    packages: BTreeMap<String, Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
#[allow(dead_code)] // read to be parsed, not used
struct Entry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    link: bool,
    dependencies: BTreeMap<String, String>,
    dev_dependencies: BTreeMap<String, String>,
    optional_dependencies: BTreeMap<String, String>,
    peer_dependencies: BTreeMap<String, String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(mode), Some(path)) = (args.next(), args.next()) else {
        return Err("usage: parse-floor read|value|typed <package-lock.json>".into());
    };
    let text = String::from_utf8(std::fs::read(path)?)?;
    let packages = match mode.as_str() {
        "read" => text.len(),
        "value" => serde_json::from_str::<Value>(&text)?
            .get("packages")
            .and_then(Value::as_object)
            .map_or(0, |packages| packages.len()),
        "typed" => serde_json::from_str::<Lock>(&text)?.packages.len(),
        other => return Err(format!("unknown mode {other}").into()),
    };
    println!("{packages}");
    Ok(())
}
