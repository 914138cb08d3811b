//! Railway's introspected schema (contracts/railway/schema.json, from railwayapp/cli
//! src/gql/schema.json at df3838b) as a validated apollo-compiler schema: the introspection
//! result is written out as SDL (types, fields, arguments, defaults; descriptions and
//! directives left out) and parsed once per process.

use std::fmt::Write as _;
use std::sync::LazyLock;

use apollo_compiler::Schema;
use apollo_compiler::validation::Valid;
use serde_json::Value;

pub const SCHEMA_JSON: &str = include_str!("../../../contracts/railway/schema.json");

static SCHEMA: LazyLock<Result<Valid<Schema>, String>> = LazyLock::new(|| {
    let json: Value = serde_json::from_str(SCHEMA_JSON).map_err(|e| e.to_string())?;
    let sdl = to_sdl(&json)?;
    Schema::parse_and_validate(sdl, "railway-schema.graphql").map_err(|e| e.errors.to_string())
});

/// The validated schema (built once).
pub fn schema() -> Result<&'static Valid<Schema>, String> {
    SCHEMA.as_ref().map_err(Clone::clone)
}

const BUILT_IN: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

fn type_ref(t: &Value) -> Result<String, String> {
    match t["kind"].as_str() {
        Some("NON_NULL") => Ok(format!("{}!", type_ref(&t["ofType"])?)),
        Some("LIST") => Ok(format!("[{}]", type_ref(&t["ofType"])?)),
        Some(_) => t["name"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a named type without a name: {t}")),
        None => Err(format!("a type reference without a kind: {t}")),
    }
}

fn input_values(list: &Value) -> Result<String, String> {
    let mut out = Vec::new();
    for arg in list.as_array().into_iter().flatten() {
        let mut one = format!(
            "{}: {}",
            arg["name"].as_str().unwrap_or(""),
            type_ref(&arg["type"])?
        );
        if let Some(default) = arg["defaultValue"].as_str() {
            write!(one, " = {default}").map_err(|e| e.to_string())?;
        }
        out.push(one);
    }
    Ok(out.join(", "))
}

/// The introspection result (`{"data": {"__schema": …}}` or `{"__schema": …}`) as SDL.
pub fn to_sdl(json: &Value) -> Result<String, String> {
    let schema = json
        .get("data")
        .unwrap_or(json)
        .get("__schema")
        .ok_or("no __schema")?;
    let mut sdl = String::from("schema {\n");
    for (op, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = schema[key]["name"].as_str() {
            let _ = writeln!(sdl, "  {op}: {name}");
        }
    }
    sdl.push_str("}\n");
    for t in schema["types"].as_array().ok_or("no types")? {
        let name = t["name"].as_str().ok_or("a type without a name")?;
        if name.starts_with("__") || BUILT_IN.contains(&name) {
            continue;
        }
        match t["kind"].as_str() {
            Some("SCALAR") => {
                let _ = writeln!(sdl, "scalar {name}");
            }
            Some(kind @ ("OBJECT" | "INTERFACE")) => {
                let keyword = if kind == "OBJECT" {
                    "type"
                } else {
                    "interface"
                };
                let interfaces: Vec<&str> = t["interfaces"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["name"].as_str())
                    .collect();
                let _ = write!(sdl, "{keyword} {name}");
                if !interfaces.is_empty() {
                    let _ = write!(sdl, " implements {}", interfaces.join(" & "));
                }
                sdl.push_str(" {\n");
                for f in t["fields"].as_array().into_iter().flatten() {
                    let args = input_values(&f["args"])?;
                    let args = if args.is_empty() {
                        String::new()
                    } else {
                        format!("({args})")
                    };
                    let _ = writeln!(
                        sdl,
                        "  {}{args}: {}",
                        f["name"].as_str().unwrap_or(""),
                        type_ref(&f["type"])?
                    );
                }
                sdl.push_str("}\n");
            }
            Some("UNION") => {
                let members: Vec<&str> = t["possibleTypes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["name"].as_str())
                    .collect();
                let _ = writeln!(sdl, "union {name} = {}", members.join(" | "));
            }
            Some("ENUM") => {
                let values: Vec<&str> = t["enumValues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["name"].as_str())
                    .collect();
                let _ = writeln!(sdl, "enum {name} {{ {} }}", values.join(" "));
            }
            Some("INPUT_OBJECT") => {
                let _ = writeln!(sdl, "input {name} {{");
                for f in t["inputFields"].as_array().into_iter().flatten() {
                    let _ = writeln!(sdl, "  {}", input_values(&Value::Array(vec![f.clone()]))?);
                }
                sdl.push_str("}\n");
            }
            other => return Err(format!("type {name} of unknown kind {other:?}")),
        }
    }
    Ok(sdl)
}
