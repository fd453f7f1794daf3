//! `KeyConditionExpression`: the grammar DynamoDB accepts for a Query's key, with
//! `#name` and `:value` placeholders resolved from `ExpressionAttributeNames` and
//! `ExpressionAttributeValues`.
//!
//! ```text
//! condition := term [AND term]
//! term      := path comparator :value            (=, <, <=, >, >=)
//!            | path BETWEEN :value AND :value
//!            | begins_with ( path , :value )
//!            | ( term )
//! path      := name | #name
//! ```
//! Keywords are case-insensitive, function names are not, as in DynamoDB.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::errors::DynamoError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One resolved term of a key condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Term {
    Compare {
        attribute: String,
        comparator: Comparator,
        value: Value,
    },
    Between {
        attribute: String,
        low: Value,
        high: Value,
    },
    BeginsWith {
        attribute: String,
        prefix: Value,
    },
}

impl Term {
    /// The attribute the term conditions.
    pub fn attribute(&self) -> &str {
        match self {
            Term::Compare { attribute, .. }
            | Term::Between { attribute, .. }
            | Term::BeginsWith { attribute, .. } => attribute,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Path(String),
    Placeholder(String),
    Comparator(Comparator),
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Path(text) | Token::Placeholder(text) => text.clone(),
            Token::Comparator(comparator) => match comparator {
                Comparator::Eq => "=",
                Comparator::Lt => "<",
                Comparator::Le => "<=",
                Comparator::Gt => ">",
                Comparator::Ge => ">=",
            }
            .to_string(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Path(text) if text.eq_ignore_ascii_case(keyword))
    }
}

fn invalid(reason: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!("Invalid KeyConditionExpression: {reason}"))
}

fn tokenize(expression: &str) -> Result<Vec<Token>, DynamoError> {
    let mut tokens = Vec::new();
    let mut characters = expression.char_indices().peekable();
    while let Some((start, character)) = characters.next() {
        let token = match character {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '=' => Token::Comparator(Comparator::Eq),
            '<' | '>' => {
                let or_equal = characters.next_if(|(_, next)| *next == '=').is_some();
                Token::Comparator(match (character, or_equal) {
                    ('<', false) => Comparator::Lt,
                    ('<', true) => Comparator::Le,
                    ('>', false) => Comparator::Gt,
                    _ => Comparator::Ge,
                })
            }
            c if c == '#' || c == ':' || c.is_ascii_alphanumeric() || c == '_' => {
                let mut end = start + c.len_utf8();
                while let Some((at, next)) =
                    characters.next_if(|(_, next)| next.is_ascii_alphanumeric() || *next == '_')
                {
                    end = at + next.len_utf8();
                }
                let word = expression[start..end].to_string();
                if word.len() == 1 && (c == '#' || c == ':') {
                    return Err(invalid(format!(
                        "Syntax error; token: \"{c}\", near: \"{}\"",
                        &expression[start..]
                    )));
                }
                if c == ':' {
                    Token::Placeholder(word)
                } else {
                    Token::Path(word)
                }
            }
            other => {
                return Err(invalid(format!(
                    "Invalid token; token: \"{other}\", near: \"{}\"",
                    &expression[start..]
                )))
            }
        };
        tokens.push(token);
    }
    Ok(tokens)
}

/// Placeholders resolved while parsing, to report the ones a request provided but did not use.
struct Placeholders<'a> {
    names: &'a Map<String, Value>,
    values: &'a Map<String, Value>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Placeholders<'_> {
    fn name(&mut self, path: &str) -> Result<String, DynamoError> {
        if !path.starts_with('#') {
            return Ok(path.to_string());
        }
        let name = self.names.get(path).and_then(Value::as_str).ok_or_else(|| {
            invalid(format!(
                "An expression attribute name used in the document path is not defined; attribute name: {path}"
            ))
        })?;
        self.used_names.insert(path.to_string());
        Ok(name.to_string())
    }

    fn value(&mut self, placeholder: &str) -> Result<Value, DynamoError> {
        let value = self.values.get(placeholder).ok_or_else(|| {
            invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
            ))
        })?;
        self.used_values.insert(placeholder.to_string());
        Ok(value.clone())
    }

    fn check_all_used(&self) -> Result<(), DynamoError> {
        let unused = |provided: &Map<String, Value>, used: &BTreeSet<String>| {
            provided
                .keys()
                .filter(|key| !used.contains(*key))
                .cloned()
                .collect::<Vec<_>>()
        };
        let names = unused(self.names, &self.used_names);
        if !names.is_empty() {
            return Err(DynamoError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(self.values, &self.used_values);
        if !values.is_empty() {
            return Err(DynamoError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    placeholders: Placeholders<'a>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// A syntax error at the token just taken (or the end).
    fn syntax_error(&self) -> DynamoError {
        let at = self.at.saturating_sub(1);
        let token = self.tokens.get(at).map_or("<EOF>".to_string(), Token::text);
        let near = self.tokens[at.saturating_sub(1)..(at + 2).min(self.tokens.len())]
            .iter()
            .map(Token::text)
            .collect::<Vec<_>>()
            .join(" ");
        invalid(format!(
            "Syntax error; token: \"{token}\", near: \"{near}\""
        ))
    }

    fn path(&mut self) -> Result<String, DynamoError> {
        match self.next() {
            Some(Token::Path(path)) => self.placeholders.name(&path),
            _ => Err(self.syntax_error()),
        }
    }

    fn value(&mut self) -> Result<Value, DynamoError> {
        match self.next() {
            Some(Token::Placeholder(placeholder)) => self.placeholders.value(&placeholder),
            _ => Err(self.syntax_error()),
        }
    }

    fn expect(&mut self, expected: Token) -> Result<(), DynamoError> {
        match self.next() {
            Some(token) if token == expected => Ok(()),
            _ => Err(self.syntax_error()),
        }
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), DynamoError> {
        match self.next() {
            Some(token) if token.is_keyword(keyword) => Ok(()),
            _ => Err(self.syntax_error()),
        }
    }

    fn term(&mut self) -> Result<Term, DynamoError> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                let term = self.term()?;
                self.expect(Token::Close)?;
                return Ok(term);
            }
            Some(Token::Path(function)) if self.tokens.get(self.at + 1) == Some(&Token::Open) => {
                self.at += 2;
                if function != "begins_with" {
                    return Err(invalid(format!(
                        "Invalid operator used in KeyConditionExpression: {function}"
                    )));
                }
                let attribute = self.path()?;
                self.expect(Token::Comma)?;
                let prefix = self.value()?;
                self.expect(Token::Close)?;
                return Ok(Term::BeginsWith { attribute, prefix });
            }
            _ => {}
        }
        let attribute = self.path()?;
        match self.next() {
            Some(Token::Comparator(comparator)) => Ok(Term::Compare {
                attribute,
                comparator,
                value: self.value()?,
            }),
            Some(token) if token.is_keyword("BETWEEN") => {
                let low = self.value()?;
                self.keyword("AND")?;
                let high = self.value()?;
                Ok(Term::Between {
                    attribute,
                    low,
                    high,
                })
            }
            Some(token @ Token::Path(_))
                if ["OR", "NOT", "IN"].iter().any(|k| token.is_keyword(k)) =>
            {
                Err(invalid(format!(
                    "Invalid operator used in KeyConditionExpression: {}",
                    token.text().to_uppercase()
                )))
            }
            _ => Err(self.syntax_error()),
        }
    }
}

/// Parses `expression` into its terms (one or two), resolving placeholders; every placeholder
/// provided must be used.
pub fn key_condition(
    expression: &str,
    names: &Map<String, Value>,
    values: &Map<String, Value>,
) -> Result<Vec<Term>, DynamoError> {
    if expression.trim().is_empty() {
        return Err(invalid("The expression can not be empty;"));
    }
    let mut parser = Parser {
        tokens: tokenize(expression)?,
        at: 0,
        placeholders: Placeholders {
            names,
            values,
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        },
    };
    let mut terms = vec![parser.term()?];
    while parser.at < parser.tokens.len() {
        match parser.next() {
            Some(token) if token.is_keyword("AND") => terms.push(parser.term()?),
            Some(token) if token.is_keyword("OR") || token.is_keyword("NOT") => {
                return Err(invalid(format!(
                    "Invalid operator used in KeyConditionExpression: {}",
                    token.text().to_uppercase()
                )))
            }
            _ => return Err(parser.syntax_error()),
        }
    }
    parser.placeholders.check_all_used()?;
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_registry_forms_parse() {
        let values = map(json!({":pk": {"S": "conn#1"}, ":prefix": {"S": "chan#"}}));
        let terms = key_condition(
            "pk = :pk AND begins_with(sk, :prefix)",
            &Map::new(),
            &values,
        )
        .unwrap();
        assert_eq!(
            terms,
            [
                Term::Compare {
                    attribute: "pk".into(),
                    comparator: Comparator::Eq,
                    value: json!({"S": "conn#1"}),
                },
                Term::BeginsWith {
                    attribute: "sk".into(),
                    prefix: json!({"S": "chan#"}),
                },
            ]
        );
        let values = map(json!({":pk": {"S": "all"}}));
        assert_eq!(
            key_condition("pk=:pk", &Map::new(), &values).unwrap().len(),
            1
        );
    }

    #[test]
    fn names_keywords_and_parentheses() {
        let names = map(json!({"#k": "pk", "#s": "sk"}));
        let values = map(json!({":v": {"S": "a"}, ":lo": {"S": "b"}, ":hi": {"S": "c"}}));
        let terms = key_condition("(#s between :lo and :hi) and #k = :v", &names, &values).unwrap();
        assert_eq!(terms[0].attribute(), "sk");
        assert_eq!(terms[1].attribute(), "pk");
        assert!(matches!(terms[0], Term::Between { .. }));
    }

    #[test]
    fn errors_read_like_dynamodb() {
        let values = map(json!({":pk": {"S": "a"}}));
        let error = |expression: &str, values: &Map<String, Value>| {
            key_condition(expression, &Map::new(), values)
                .unwrap_err()
                .message
        };
        assert_eq!(
            error("pk = :other", &values),
            "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; attribute value: :other"
        );
        assert_eq!(
            error(
                "pk = :pk",
                &map(json!({":pk": {"S": "a"}, ":extra": {"S": "b"}}))
            ),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}"
        );
        assert!(error("pk = ", &values)
            .starts_with("Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\""));
        assert!(error("pk = :pk OR pk = :pk", &values)
            .contains("Invalid operator used in KeyConditionExpression: OR"));
        assert!(error("contains(pk, :pk)", &values).contains("contains"));
        assert!(key_condition("#nope = :pk", &Map::new(), &values)
            .unwrap_err()
            .message
            .contains("attribute name: #nope"));
    }
}
