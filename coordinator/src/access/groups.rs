//! Trino's group file: one `group:user1,user2` line per group (`auth.groups_file`).

use std::collections::BTreeMap;

use super::AccessError;

/// Each user's groups, from the group file.
#[derive(Debug, Default)]
pub struct Groups {
    by_user: BTreeMap<String, Vec<String>>,
}

impl Groups {
    /// Parses a group file; `path` names it in errors. Blank lines and `#` comments are
    /// skipped.
    pub fn parse(path: &str, text: &str) -> Result<Self, AccessError> {
        let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |message: &str| AccessError::Groups {
                path: path.to_string(),
                line: index + 1,
                message: message.to_string(),
            };
            let (group, users) = line
                .split_once(':')
                .ok_or_else(|| error("expected group:user1,user2"))?;
            let group = group.trim();
            if group.is_empty() {
                return Err(error("the group name is empty"));
            }
            for user in users.split(',').map(str::trim).filter(|u| !u.is_empty()) {
                let groups = by_user.entry(user.to_string()).or_default();
                if !groups.iter().any(|g| g == group) {
                    groups.push(group.to_string());
                }
            }
        }
        Ok(Self { by_user })
    }

    /// The groups `user` belongs to.
    pub fn of(&self, user: &str) -> &[String] {
        self.by_user.get(user).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_collect_their_groups() {
        let groups = Groups::parse("g", "# who\nmerchants: ana, bo\n\nadmins:ana\n").unwrap();
        assert_eq!(groups.of("ana"), ["merchants", "admins"]);
        assert_eq!(groups.of("bo"), ["merchants"]);
        assert!(groups.of("cy").is_empty());
        let error = Groups::parse("g.txt", "ok:a\nbroken line\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("g.txt, line 2"), "{error}");
    }
}
