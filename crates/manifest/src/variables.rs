//! `${stage}`, `${name}` and `${env:NAME}` in manifest values.
//!
//! `${request.…}` is left alone: it is API Gateway's own syntax for selection expressions.

use super::stage_env::StageEnv;

/// What variables resolve against.
pub struct Variables<'a> {
    pub stage: &'a str,
    /// The top-level `name`; `None` while `name` itself is being resolved.
    pub name: Option<&'a str>,
    pub env: &'a StageEnv,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VariableError {
    /// `${env:NAME}` with `NAME` set nowhere.
    UnsetEnv(String),
    Unknown(String),
    Unterminated,
    /// `${name}` inside `name`.
    NameInName,
}

impl VariableError {
    pub fn message(&self, env: &StageEnv) -> (String, String) {
        match self {
            VariableError::UnsetEnv(var) => (
                format!("environment variable `{var}` is not set (used as `${{env:{var}}}`)"),
                format!(
                    "set {var} in {} or in the environment, e.g. `export {var}=...`",
                    env.file
                        .file_name()
                        .map(|f| f.to_string_lossy())
                        .unwrap_or_default()
                ),
            ),
            VariableError::Unknown(var) => (
                format!("unknown variable `${{{var}}}`"),
                "the variables are ${stage}, ${name} and ${env:NAME}".to_string(),
            ),
            VariableError::Unterminated => (
                "`${` without a closing `}`".to_string(),
                "write variables as ${stage}, ${name} or ${env:NAME}".to_string(),
            ),
            VariableError::NameInName => (
                "`name` cannot use `${name}`".to_string(),
                "write the service name out, e.g. `name: my-socket`".to_string(),
            ),
        }
    }
}

impl Variables<'_> {
    pub fn substitute(&self, raw: &str) -> Result<String, VariableError> {
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or(VariableError::Unterminated)?;
            let inner = after[..end].trim();
            match inner {
                "stage" => out.push_str(self.stage),
                "name" => out.push_str(self.name.ok_or(VariableError::NameInName)?),
                _ if inner.starts_with("env:") => {
                    let var = inner["env:".len()..].trim();
                    let value = self
                        .env
                        .get(var)
                        .ok_or_else(|| VariableError::UnsetEnv(var.to_string()))?;
                    out.push_str(value);
                }
                _ if inner.starts_with("request.") => {
                    out.push_str(&rest[start..start + 2 + end + 1]);
                }
                _ => return Err(VariableError::Unknown(inner.to_string())),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env() -> StageEnv {
        let process = BTreeMap::from([("TABLE".to_string(), "t1".to_string())]);
        StageEnv::load(std::path::Path::new("/nonexistent"), "dev", "dev", process).unwrap()
    }

    #[test]
    fn substitutes_each_kind() {
        let env = env();
        let vars = Variables {
            stage: "prod",
            name: Some("svc"),
            env: &env,
        };
        assert_eq!(
            vars.substitute("${name}-${stage}-${env:TABLE}").unwrap(),
            "svc-prod-t1"
        );
        assert_eq!(
            vars.substitute("$request.body.x").unwrap(),
            "$request.body.x"
        );
        assert_eq!(
            vars.substitute("${request.body.x}").unwrap(),
            "${request.body.x}"
        );
        assert_eq!(
            vars.substitute("${env:NOPE}"),
            Err(VariableError::UnsetEnv("NOPE".into()))
        );
        assert_eq!(
            vars.substitute("${foo}"),
            Err(VariableError::Unknown("foo".into()))
        );
        assert_eq!(vars.substitute("${stage"), Err(VariableError::Unterminated));
    }
}
