//! Where the return schemas come from: the extract committed in `pve-sim/schema/` (always), and
//! the full `apidoc-pve-9.2.json` when `PVE_APIDOC` names it. The full schema is 1.4 MB and not
//! part of the repository; `pve-sim/schema/extract.py` makes the extract from it and says how.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// The committed extract, read at compile time so the test needs no file beside the checkout.
const EXTRACT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/schema/pve-api-extract.json"
));

/// How to bring the extract up to date, for error messages.
pub(super) const REGENERATE: &str =
    "regenerate it with `python3 pve-sim/schema/extract.py /path/to/apidoc-pve-9.2.json`";

/// Return schemas keyed by `"METHOD /path/template"`, and a name for where they came from.
pub(super) struct Schemas {
    pub(super) origin: String,
    pub(super) returns: BTreeMap<String, Value>,
}

impl Schemas {
    /// The committed extract.
    pub(super) fn extract() -> Self {
        let doc = extract_doc();
        let returns = doc["returns"]
            .as_object()
            .expect("the extract has a `returns` object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Schemas {
            origin: "the extract pve-sim/schema/pve-api-extract.json".into(),
            returns,
        }
    }

    /// The full schema named by `PVE_APIDOC`, or `None` when the variable is unset or empty.
    ///
    /// # Panics
    /// When the variable names a file that cannot be read or is not JSON: the caller asked for
    /// the full check, so quietly skipping it would hide the mistake.
    pub(super) fn full_from_env() -> Option<Self> {
        let path = PathBuf::from(std::env::var_os("PVE_APIDOC").filter(|v| !v.is_empty())?);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "PVE_APIDOC names {}, which cannot be read ({e}); unset it to check against the \
                 committed extract only",
                path.display()
            )
        });
        let tree: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("PVE_APIDOC: {} is not JSON: {e}", path.display()));
        Some(Self::from_tree(&tree, &path.display().to_string()))
    }

    /// Flatten PVE's schema tree (`[{path, info: {METHOD: {returns, ..}}, children}]`).
    pub(super) fn from_tree(tree: &Value, origin: &str) -> Self {
        fn walk(nodes: &Value, into: &mut BTreeMap<String, Value>) {
            for node in nodes.as_array().into_iter().flatten() {
                let path = node["path"].as_str().unwrap_or_default();
                for (method, info) in node["info"].as_object().into_iter().flatten() {
                    into.insert(format!("{method} {path}"), info["returns"].clone());
                }
                walk(&node["children"], into);
            }
        }
        let mut returns = BTreeMap::new();
        walk(tree, &mut returns);
        Schemas {
            origin: origin.to_owned(),
            returns,
        }
    }

    /// The `returns` schema of one endpoint.
    pub(super) fn returns(&self, method: &str, template: &str) -> Option<&Value> {
        self.returns.get(&format!("{method} {template}"))
    }
}

/// The extract as a JSON document (with its `selection` and `source`).
pub(super) fn extract_doc() -> Value {
    serde_json::from_str(EXTRACT).expect("pve-sim/schema/pve-api-extract.json is JSON")
}

/// Which paths the extract promises to hold, as its `selection` records it: exact paths, and
/// every path equal to or below a prefix. The same rule as `selected` in extract.py.
pub(super) fn selected(selection: &Value, path: &str) -> bool {
    let list = |key: &str| -> Vec<String> {
        selection[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_owned))
            .collect()
    };
    list("exact").iter().any(|p| p == path)
        || list("prefixes")
            .iter()
            .any(|p| path == p || path.starts_with(&format!("{p}/")))
}

/// Whether `part` is `whole` with some object keys left out (what extract.py's stripping does):
/// every value kept must be identical to the full schema's.
fn is_within(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|wv| is_within(v, wv))),
        (Value::Array(p), Value::Array(w)) => {
            p.len() == w.len() && p.iter().zip(w).all(|(a, b)| is_within(a, b))
        }
        _ => part == whole,
    }
}

/// What makes `extract` an unfaithful copy of `full`: an endpoint its selection covers but it
/// lacks, an endpoint `full` does not have, or a schema that is not a stripped copy of `full`'s.
pub(super) fn unfaithful(selection: &Value, extract: &Schemas, full: &Schemas) -> Vec<String> {
    let mut errors = Vec::new();
    for (key, whole) in &full.returns {
        let path = key.split_once(' ').map_or("", |(_, p)| p);
        match extract.returns.get(key) {
            None if selected(selection, path) => errors.push(format!(
                "{key}: in {} but not in {}",
                full.origin, extract.origin
            )),
            Some(part) if !is_within(part, whole) => errors.push(format!(
                "{key}: the extract's schema differs from {}'s",
                full.origin
            )),
            _ => {}
        }
    }
    for key in extract.returns.keys() {
        if !full.returns.contains_key(key) {
            errors.push(format!("{key}: in the extract but not in {}", full.origin));
        }
    }
    errors
}

#[test]
fn the_extract_holds_only_what_its_selection_names() {
    let doc = extract_doc();
    let extract = Schemas::extract();
    assert!(
        extract.returns.len() >= 100,
        "the extract has {} endpoints",
        extract.returns.len()
    );
    for key in extract.returns.keys() {
        let (method, path) = key.split_once(' ').expect("keys are `METHOD /path`");
        assert!(
            ["GET", "POST", "PUT", "DELETE"].contains(&method),
            "{key}: unknown method"
        );
        assert!(
            selected(&doc["selection"], path),
            "{key} is outside the extract's own selection; {REGENERATE}"
        );
    }
    assert!(
        doc["source"]["sha256"]
            .as_str()
            .is_some_and(|h| h.len() == 64),
        "the extract names the schema it came from: {}",
        doc["source"]
    );
}

#[test]
fn the_faithfulness_check_finds_a_missing_an_extra_and_a_changed_endpoint() {
    let tree = serde_json::json!([
        {"path": "/version", "info": {"GET": {"returns": {"type": "object", "description": "v",
            "properties": {"release": {"type": "string", "description": "x.y"}}}}}},
        {"path": "/nodes", "info": {"GET": {"returns": {"type": "array"}}}, "children": [
            {"path": "/nodes/{node}", "info": {"GET": {"returns": {"type": "array"}}}, "children": [
                {"path": "/nodes/{node}/qemu", "info": {
                    "GET": {"returns": {"type": "array"}},
                    "POST": {"returns": {"type": "string"}}}}]}]}
    ]);
    let full = Schemas::from_tree(&tree, "full");
    assert_eq!(full.returns.len(), 5, "{:?}", full.returns.keys());
    let selection = serde_json::json!({"exact": ["/version", "/nodes"],
        "prefixes": ["/nodes/{node}/qemu"]});
    let extract = |pairs: Vec<(&str, Value)>| Schemas {
        origin: "extract".into(),
        returns: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    };

    // Stripped of its descriptions, with everything the selection covers: faithful.
    let good = extract(vec![
        (
            "GET /version",
            serde_json::json!({"type": "object", "properties": {"release": {"type": "string"}}}),
        ),
        ("GET /nodes", serde_json::json!({"type": "array"})),
        (
            "GET /nodes/{node}/qemu",
            serde_json::json!({"type": "array"}),
        ),
        (
            "POST /nodes/{node}/qemu",
            serde_json::json!({"type": "string"}),
        ),
    ]);
    assert!(
        unfaithful(&selection, &good, &full).is_empty(),
        "{:?}",
        unfaithful(&selection, &good, &full)
    );

    // A changed type, a lost endpoint of a covered prefix, an endpoint PVE does not have.
    let bad = extract(vec![
        (
            "GET /version",
            serde_json::json!({"type": "object", "properties": {"release": {"type": "integer"}}}),
        ),
        ("GET /nodes", serde_json::json!({"type": "array"})),
        (
            "GET /nodes/{node}/qemu",
            serde_json::json!({"type": "array"}),
        ),
        (
            "GET /nodes/{node}/qemu/{vmid}",
            serde_json::json!({"type": "object"}),
        ),
    ]);
    let errors = unfaithful(&selection, &bad, &full);
    assert_eq!(errors.len(), 3, "{errors:?}");
    for key in [
        "GET /version:",
        "POST /nodes/{node}/qemu:",
        "GET /nodes/{node}/qemu/{vmid}:",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(key)),
            "{key} in {errors:?}"
        );
    }
}
