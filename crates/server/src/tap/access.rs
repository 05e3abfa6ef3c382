//! Restricted data (issue 14): which tables a caller may know about.
//!
//! The operator restricts schemas or tables to groups (`[access] restricted`). This module is
//! the in-memory wall: the catalogue a caller is served (`/tables`, the ADQL allow-list, result
//! metadata) is the full one minus what none of the caller's groups may read, so a hidden table
//! is "not found" with nothing that names it. The database wall (grants to per-group roles,
//! row security on TAP_SCHEMA) is `db::access`; the query of a caller runs as the role
//! [`Rules::groups_of`] picks.

use std::collections::BTreeMap;

use crate::identity::Caller;
use crate::tap_schema::{TableInfo, TapSchema};

/// One restriction: a schema, or a table of a schema, and who may read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub schema: String,
    /// `None`: the whole schema.
    pub table: Option<String>,
    pub groups: Vec<String>,
}

/// All restrictions, from the configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    pub fn new(config: &BTreeMap<String, Vec<String>>) -> Rules {
        let rules = config
            .iter()
            .map(|(object, groups)| {
                let (schema, table) = match object.split_once('.') {
                    Some((s, t)) => (s.trim().to_string(), Some(t.trim().to_string())),
                    None => (object.trim().to_string(), None),
                };
                Rule {
                    schema,
                    table,
                    groups: groups.clone(),
                }
            })
            .collect();
        Rules { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The groups that may read `table`: those listed by every rule naming it or its schema
    /// (a group must be allowed by each), or `None` when it is public.
    pub fn readers(&self, table: &TableInfo) -> Option<Vec<&str>> {
        let schema = table.schema.as_deref().unwrap_or("public");
        let mut matching = self.rules.iter().filter(|r| {
            r.schema.eq_ignore_ascii_case(schema)
                && r.table
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case(&table.name))
        });
        let first = matching.next()?;
        let mut groups: Vec<&str> = first.groups.iter().map(String::as_str).collect();
        for more in matching {
            groups.retain(|g| more.groups.iter().any(|m| m == g));
        }
        Some(groups)
    }

    /// The restricted groups `caller` belongs to, sorted: the key of what it may see and of
    /// the database role its queries run as. Empty for anonymous callers and for users in no
    /// group that any rule names.
    pub fn groups_of(&self, caller: &Caller) -> Vec<String> {
        let Caller::User(account) = caller else {
            return Vec::new();
        };
        let mut out: Vec<String> = account
            .groups
            .iter()
            .filter(|g| self.rules.iter().any(|r| r.groups.contains(g)))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// What members of `groups` (and nobody else) are served of `full`: tables none of their
    /// groups may read are gone, with their keys, and so is a schema restricted as a whole.
    pub fn view(&self, full: &TapSchema, groups: &[String]) -> TapSchema {
        let may = |t: &TableInfo| match self.readers(t) {
            None => true,
            Some(readers) => readers.iter().any(|r| groups.iter().any(|g| g == r)),
        };
        let tables: Vec<TableInfo> = full.tables.iter().filter(|t| may(t)).cloned().collect();
        let visible = |qualified: &str| {
            tables.iter().any(|t| {
                t.qualified_name().eq_ignore_ascii_case(qualified)
                    || t.adql_name().eq_ignore_ascii_case(qualified)
            })
        };
        let hidden_schema = |name: &str| {
            self.rules.iter().any(|r| {
                r.table.is_none()
                    && r.schema.eq_ignore_ascii_case(name)
                    && !r.groups.iter().any(|g| groups.contains(g))
            })
        };
        TapSchema {
            schemas: full
                .schemas
                .iter()
                .filter(|s| !hidden_schema(&s.name))
                .cloned()
                .collect(),
            keys: full
                .keys
                .iter()
                .filter(|k| visible(&k.from_table) && visible(&k.target_table))
                .cloned()
                .collect(),
            tables,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Account;
    use crate::tap_schema::{KeyInfo, SchemaInfo};
    use std::sync::Arc;

    fn table(schema: &str, name: &str) -> TableInfo {
        TableInfo {
            schema: Some(schema.into()),
            name: name.into(),
            table_type: "table".into(),
            description: None,
            utype: None,
            index: None,
            columns: Vec::new(),
        }
    }

    fn schema(name: &str) -> SchemaInfo {
        SchemaInfo {
            name: name.into(),
            description: None,
            utype: None,
            index: None,
        }
    }

    fn user(groups: &[&str]) -> Caller {
        Caller::User(Arc::new(Account {
            name: "u".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }))
    }

    #[test]
    fn views_hide_what_no_group_of_the_caller_may_read() {
        let config = BTreeMap::from([
            ("secret".to_string(), vec!["team".to_string()]),
            (
                "cat.private".to_string(),
                vec!["pi".to_string(), "team".to_string()],
            ),
        ]);
        let rules = Rules::new(&config);
        let full = TapSchema {
            schemas: vec![schema("cat"), schema("secret")],
            tables: vec![
                table("cat", "public_t"),
                table("cat", "PRIVATE"),
                table("secret", "obs"),
            ],
            keys: vec![KeyInfo {
                key_id: "k".into(),
                from_table: "cat.public_t".into(),
                target_table: "cat.private".into(),
                description: None,
                utype: None,
                columns: Vec::new(),
            }],
        };
        let names = |v: &TapSchema| v.tables.iter().map(|t| t.qualified_name()).collect::<Vec<_>>();

        let anon = rules.view(&full, &rules.groups_of(&Caller::Anonymous));
        assert_eq!(names(&anon), ["cat.public_t"]);
        assert_eq!(anon.schemas.len(), 1);
        assert!(anon.keys.is_empty());

        let outsider = user(&["astro"]);
        assert!(rules.groups_of(&outsider).is_empty());

        let pi = user(&["pi", "astro"]);
        assert_eq!(rules.groups_of(&pi), ["pi"]);
        let v = rules.view(&full, &rules.groups_of(&pi));
        assert_eq!(names(&v), ["cat.public_t", "cat.PRIVATE"]);
        assert_eq!(v.keys.len(), 1);
        assert_eq!(v.schemas.len(), 1);

        let team = user(&["team"]);
        let v = rules.view(&full, &rules.groups_of(&team));
        assert_eq!(names(&v), ["cat.public_t", "cat.PRIVATE", "secret.obs"]);
        assert_eq!(v.schemas.len(), 2);
    }

    #[test]
    fn a_table_under_two_rules_needs_a_group_both_name() {
        let config = BTreeMap::from([
            ("s".to_string(), vec!["a".to_string(), "b".to_string()]),
            ("s.t".to_string(), vec!["b".to_string()]),
        ]);
        let rules = Rules::new(&config);
        assert_eq!(rules.readers(&table("s", "t")), Some(vec!["b"]));
        assert_eq!(rules.readers(&table("s", "u")), Some(vec!["a", "b"]));
        assert_eq!(rules.readers(&table("other", "t")), None);
    }
}
