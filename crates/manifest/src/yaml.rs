//! The manifest as written: a YAML tree in which every key and value keeps its place in the file.
//!
//! Built from the marked events of `saphyr-parser`. Scalars stay text as written (`1.10` stays
//! `1.10`, `0x10` stays `0x10`): each key decides what its text means, so numbers, booleans and
//! `${…}` variables are all read the same way. Aliases are expanded; the YAML core tags (`!!str`,
//! …) are accepted and any other tag (`!Ref`) is refused, since nothing here would give it a meaning.

use std::borrow::Cow;
use std::collections::BTreeMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Tag};

/// Where a key or value is in the source: byte offset and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub offset: usize,
    pub len: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// `~`, `null`, or nothing at all (`key:`).
    Null,
    Scalar(String),
    Sequence(Vec<Node>),
    /// Entries in the file's order; keys are unique.
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    /// The value under `key` when this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| matches!(&k.value, Value::Scalar(name) if name == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
}

impl Value {
    /// What serde called each kind, kept so that type errors read as they always have.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "unit value",
            Value::Scalar(_) => "string",
            Value::Sequence(_) => "sequence",
            Value::Mapping(_) => "map",
        }
    }
}

/// A YAML syntax error (or a construct the manifest does not accept), at a byte offset.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub offset: usize,
    pub message: String,
    pub help: Option<String>,
}

/// Parses `src` into its one document; an empty file is [`Value::Null`].
pub(crate) fn parse(src: &str) -> Result<Node, SyntaxError> {
    let mut builder = Builder {
        positions: Positions::new(src),
        parser: Parser::new_from_str(src),
        anchors: BTreeMap::new(),
    };
    builder.document()
}

struct Builder<'a> {
    positions: Positions<'a>,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: BTreeMap<usize, Node>,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok((event, span))) => {
                let start = self.positions.offset(span.start);
                let end = self.positions.offset(span.end).max(start);
                Ok((
                    event,
                    Span {
                        offset: start,
                        len: end - start,
                    },
                ))
            }
            Some(Err(e)) => Err(SyntaxError {
                offset: self.positions.offset(*e.marker()),
                message: e.info().to_string(),
                help: None,
            }),
            None => Err(SyntaxError {
                offset: self.positions.src.len(),
                message: "unexpected end of the file".to_string(),
                help: None,
            }),
        }
    }

    fn document(&mut self) -> Result<Node, SyntaxError> {
        let mut root = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(SyntaxError {
                        offset: span.offset,
                        message: "deserializing from YAML containing more than one document is not supported".to_string(),
                        help: Some("a manifest is one YAML document: remove the `---` and what follows, or move it to its own file".to_string()),
                    });
                }
                Event::DocumentStart(_) => {
                    let (event, span) = self.next()?;
                    root = Some(self.node(event, span)?);
                }
                _ => {}
            }
        }
        Ok(root.unwrap_or(Node {
            value: Value::Null,
            span: Span { offset: 0, len: 0 },
        }))
    }

    /// The node that `event` starts (its children are read from the parser).
    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, SyntaxError> {
        let (node, anchor) = match event {
            Event::Alias(id) => {
                let mut node = self.anchors.get(&id).cloned().ok_or(SyntaxError {
                    offset: span.offset,
                    message: "unknown anchor".to_string(),
                    help: None,
                })?;
                // Errors in an alias's value point at where it is used.
                node.span = span;
                return Ok(node);
            }
            Event::Scalar(text, style, anchor, tag) => {
                check_tag(tag.as_ref(), span)?;
                let null = style == ScalarStyle::Plain
                    && tag.is_none()
                    && matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                let value = if null {
                    Value::Null
                } else {
                    Value::Scalar(text.into_owned())
                };
                (Node { value, span }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                check_tag(tag.as_ref(), span)?;
                let mut items = Vec::new();
                let end = loop {
                    let (event, item_span) = self.next()?;
                    if event == Event::SequenceEnd {
                        break item_span;
                    }
                    items.push(self.node(event, item_span)?);
                };
                (
                    Node {
                        value: Value::Sequence(items),
                        span: span.to(end),
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, tag) => {
                check_tag(tag.as_ref(), span)?;
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let end = loop {
                    let (event, key_span) = self.next()?;
                    if event == Event::MappingEnd {
                        break key_span;
                    }
                    let key = self.node(event, key_span)?;
                    if let Value::Scalar(name) = &key.value {
                        if entries
                            .iter()
                            .any(|(k, _)| matches!(&k.value, Value::Scalar(n) if n == name))
                        {
                            return Err(SyntaxError {
                                offset: key.span.offset,
                                message: format!("duplicate entry with key \"{name}\""),
                                help: Some(
                                    "each key may appear once in a block: keep one of them"
                                        .to_string(),
                                ),
                            });
                        }
                    }
                    let (event, value_span) = self.next()?;
                    let value = self.node(event, value_span)?;
                    entries.push((key, value));
                };
                (
                    Node {
                        value: Value::Mapping(entries),
                        span: span.to(end),
                    },
                    anchor,
                )
            }
            other => {
                return Err(SyntaxError {
                    offset: span.offset,
                    message: format!("unexpected YAML event {other:?}"),
                    help: None,
                })
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn check_tag(tag: Option<&Cow<'_, Tag>>, span: Span) -> Result<(), SyntaxError> {
    match tag {
        Some(tag) if !tag.is_yaml_core_schema() => Err(SyntaxError {
            offset: span.offset,
            message: format!("tag `{tag}` is not supported"),
            help: Some(
                "write the value itself; values from the environment are written `${env:NAME}`"
                    .to_string(),
            ),
        }),
        _ => Ok(()),
    }
}

impl Span {
    /// From the start of `self` to the end of `end`.
    fn to(self, end: Span) -> Span {
        let stop = (end.offset + end.len).max(self.offset + self.len);
        Span {
            offset: self.offset,
            len: stop - self.offset,
        }
    }
}

/// Turns the parser's markers (line, column in characters) into byte offsets.
struct Positions<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Positions<'a> {
    fn new(src: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(src.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Positions { src, line_starts }
    }

    fn offset(&self, marker: Marker) -> usize {
        let Some(&start) = self.line_starts.get(marker.line().saturating_sub(1)) else {
            return self.src.len();
        };
        let line = &self.src[start..];
        start
            + line
                .char_indices()
                .nth(marker.col())
                .map_or(line.len(), |(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(src: &str, node: &Node) -> String {
        src[node.span.offset..node.span.offset + node.span.len].to_string()
    }

    #[test]
    fn keys_and_values_keep_their_place() {
        let src = "# é\nname: chat\nSocket:\n  inputs: {memory: 128}\n  routes: [a, \"b\"]\n";
        let root = parse(src).unwrap();
        let Value::Mapping(top) = &root.value else {
            panic!("{root:?}")
        };
        assert_eq!(text(src, &top[0].0), "name");
        assert_eq!(text(src, &top[0].1), "chat");
        let Value::Mapping(block) = &top[1].1.value else {
            panic!()
        };
        let Value::Mapping(inputs) = &block[0].1.value else {
            panic!()
        };
        assert_eq!(text(src, &inputs[0].1), "128");
        let Value::Sequence(routes) = &block[1].1.value else {
            panic!()
        };
        assert!(matches!(&routes[1].value, Value::Scalar(s) if s == "b"));
    }

    #[test]
    fn scalars_stay_as_written_and_nulls_are_null() {
        let root = parse("a: 1.10\nb: 0x10\nc: ~\nd:\ne: 'null'\n").unwrap();
        let Value::Mapping(entries) = root.value else {
            panic!()
        };
        let values: Vec<_> = entries.iter().map(|(_, v)| &v.value).collect();
        assert!(matches!(values[0], Value::Scalar(s) if s == "1.10"));
        assert!(matches!(values[1], Value::Scalar(s) if s == "0x10"));
        assert!(matches!(values[2], Value::Null));
        assert!(matches!(values[3], Value::Null));
        assert!(matches!(values[4], Value::Scalar(s) if s == "null"));
    }

    #[test]
    fn duplicates_tags_and_documents_are_refused_where_they_are() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (10, "duplicate entry with key \"a\"")
        );
        let e = parse("a: !Ref x\n").unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (3, "tag `!Ref` is not supported")
        );
        assert!(parse("a: !!str 12\n").is_ok());
        let e = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(e.message.contains("more than one document"), "{e:?}");
        assert!(matches!(parse("").unwrap().value, Value::Null));
    }

    #[test]
    fn aliases_expand_and_point_at_their_use() {
        let src = "a: &x {k: v}\nb: *x\n";
        let Value::Mapping(entries) = parse(src).unwrap().value else {
            panic!()
        };
        assert!(matches!(&entries[1].1.value, Value::Mapping(m) if m.len() == 1));
        assert_eq!(text(src, &entries[1].1), "*x");
    }
}
