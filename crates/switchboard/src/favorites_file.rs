//! The favorites file of `favorites set FILE`: JSON, or TOML for `*.toml`.
//!
//! JSON is a list, the form `favorites --json` prints, so a saved list loads back:
//!
//! ```json
//! [{"slot": 1, "number": "201"},
//!  {"slot": 2, "type": "queue", "id": 1, "size": "double"}]
//! ```
//!
//! TOML is a `[[favorite]]` table per favorite with the same fields. An entity is
//! named by its `number`, or by `type` and `id`; `size` defaults to `single`.
//! Unknown fields are errors, so that a typo does not silently lose a setting.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use pbx_model::{Entity, EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};
use serde::Deserialize;

/// One favorite as a person writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    slot: u32,
    #[serde(default)]
    size: Option<FavoriteSize>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<EntityKind>,
    #[serde(default)]
    id: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    favorite: Vec<Entry>,
}

impl Entry {
    /// Whether the entry names its entity by number (so that the extensions are needed).
    pub(crate) fn needs_lookup(&self) -> bool {
        self.number.is_some()
    }
}

/// Reads the entries of `path` (`-`: JSON from stdin).
pub(crate) fn read(path: &Path) -> Result<Vec<Entry>> {
    let (text, name) = if path == Path::new("-") {
        let text = std::io::read_to_string(std::io::stdin()).context("reading stdin")?;
        (text, "stdin".to_owned())
    } else {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        (text, path.display().to_string())
    };
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    parse(&text, toml).with_context(|| name)
}

fn parse(text: &str, toml: bool) -> Result<Vec<Entry>> {
    if toml {
        let file: TomlFile =
            toml::from_str(text).map_err(|e| anyhow!("{}", e.to_string().trim_end()))?;
        Ok(file.favorite)
    } else {
        Ok(serde_json::from_str(text)?)
    }
}

/// The favorites the entries describe; `entities` resolves numbers.
pub(crate) fn resolve(entries: Vec<Entry>, entities: &[Entity]) -> Result<Vec<Favorite>> {
    entries
        .into_iter()
        .map(|entry| {
            let slot = entry.slot;
            let entity = match (entry.number, entry.kind, entry.id) {
                (Some(number), None, None) => entities
                    .iter()
                    .find(|e| e.abbreviated == number)
                    .map(Entity::entity_ref)
                    .ok_or_else(|| {
                        anyhow!("favorite in slot {slot}: no extension, queue or attendant numbered {number:?} in your group")
                    })?,
                (None, Some(kind), Some(id)) => EntityRef {
                    kind,
                    id: EntityId(id),
                },
                _ => bail!("favorite in slot {slot}: give either `number`, or `type` and `id`"),
            };
            Ok(Favorite {
                entity,
                slot,
                size: entry.size.unwrap_or(FavoriteSize::Single),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_model::{CallerId, Presence};

    fn entities() -> Vec<Entity> {
        vec![Entity {
            id: EntityId(7),
            kind: EntityKind::Extension,
            abbreviated: "201".into(),
            caller_id: CallerId::default(),
            voicemail: false,
            email: String::new(),
            presence: Presence::Online,
        }]
    }

    #[test]
    fn json_and_toml_say_the_same() {
        let json = r#"[{"slot": 1, "number": "201"},
                       {"slot": 2, "type": "queue", "id": 1, "size": "double"}]"#;
        let toml = "[[favorite]]\nslot = 1\nnumber = \"201\"\n\n\
                    [[favorite]]\nslot = 2\ntype = \"queue\"\nid = 1\nsize = \"double\"\n";
        let from_json = resolve(parse(json, false).unwrap(), &entities()).unwrap();
        let from_toml = resolve(parse(toml, true).unwrap(), &entities()).unwrap();
        assert_eq!(from_json, from_toml);
        assert_eq!(
            from_json[0].entity,
            EntityRef {
                kind: EntityKind::Extension,
                id: EntityId(7)
            }
        );
        assert_eq!(from_json[0].size, FavoriteSize::Single);
        assert_eq!(from_json[1].size, FavoriteSize::Double);
        assert!(resolve(parse("", true).unwrap(), &[]).unwrap().is_empty());
    }

    #[test]
    fn what_favorites_json_prints_reads_back() {
        let favorite = Favorite {
            entity: EntityRef {
                kind: EntityKind::Attendant,
                id: EntityId(2),
            },
            slot: 4,
            size: FavoriteSize::Double,
        };
        let json = serde_json::to_string(&[&favorite]).unwrap();
        assert_eq!(
            resolve(parse(&json, false).unwrap(), &[]).unwrap(),
            [favorite]
        );
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse(r#"[{"slot": 1, "numbr": "201"}]"#, false).is_err());
        assert!(parse("[[favorite]]\nslot = 1\ncolour = 2\n", true).is_err());
        let unknown = resolve(
            parse(r#"[{"slot": 1, "number": "999"}]"#, false).unwrap(),
            &entities(),
        );
        assert!(unknown.unwrap_err().to_string().contains("\"999\""));
        let both = r#"[{"slot": 1, "number": "201", "type": "queue", "id": 1}]"#;
        assert!(resolve(parse(both, false).unwrap(), &entities()).is_err());
        assert!(resolve(parse(r#"[{"slot": 1, "id": 1}]"#, false).unwrap(), &[]).is_err());
    }
}
