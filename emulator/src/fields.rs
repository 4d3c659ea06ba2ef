//! Graph's field expansion syntax: `id,messages.limit(3){id,from},participants{name}`.
//!
//! <https://developers.facebook.com/docs/graph-api/field-expansion>: nested fields in
//! braces, modifiers such as `.limit(N)` after an edge name. A malformed expression is
//! refused with Graph's syntax error (code 2500, "Syntax error ... at character N").

use crate::error::GraphError;

/// One requested field, its modifiers and its subfields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Field {
    pub name: String,
    pub limit: Option<usize>,
    /// `None` when no braces followed: the edge's default fields.
    pub sub: Option<Vec<Field>>,
}

impl Field {
    pub fn plain(name: &str) -> Field {
        Field { name: name.to_string(), ..Field::default() }
    }
}

/// Parses a whole `fields` value.
pub fn parse(raw: &str) -> Result<Vec<Field>, GraphError> {
    let mut p = Parser { src: raw, chars: raw.char_indices().collect(), pos: 0 };
    let fields = p.list()?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        let found = p.chars[p.pos].1;
        return Err(p.error(&format!("Expected end of string instead of \"{found}\".")));
    }
    Ok(fields)
}

struct Parser<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> GraphError {
        GraphError::syntax(&format!("Syntax error \"{what}\" at character {}: {}", self.pos, self.src))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|(_, c)| *c)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Result<String, GraphError> {
        self.skip_ws();
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error("Expected name."));
        }
        Ok(self.chars[start..self.pos].iter().map(|(_, c)| c).collect())
    }

    fn list(&mut self) -> Result<Vec<Field>, GraphError> {
        let mut out = vec![self.field()?];
        while self.eat(',') {
            out.push(self.field()?);
        }
        Ok(out)
    }

    fn field(&mut self) -> Result<Field, GraphError> {
        let mut field = Field::plain(&self.name()?);
        while self.eat('.') {
            let modifier = self.name()?;
            if !self.eat('(') {
                return Err(self.error("Expected \"(\"."));
            }
            self.skip_ws();
            let start = self.pos;
            while self.peek().is_some_and(|c| c != ')') {
                self.pos += 1;
            }
            let arg: String = self.chars[start..self.pos].iter().map(|(_, c)| c).collect();
            if !self.eat(')') {
                return Err(self.error("Expected \")\"."));
            }
            match modifier.as_str() {
                "limit" => match arg.trim().parse::<usize>() {
                    Ok(n) => field.limit = Some(n),
                    Err(_) => return Err(GraphError::param(format!("(#100) Invalid limit for field {}", field.name))),
                },
                // Accepted and ignored: the emulator has nothing to summarise.
                "summary" | "order" | "filter" => {}
                other => return Err(GraphError::param(format!("(#100) Unknown field modifier {other}"))),
            }
        }
        if self.eat('{') {
            field.sub = Some(self.list()?);
            if !self.eat('}') {
                return Err(self.error("Expected \"}\"."));
            }
        }
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_expansion() {
        let f = parse("id, messages.limit(3){id,created_time,from},participants{name}").unwrap_or_default();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].name, "messages");
        assert_eq!(f[1].limit, Some(3));
        assert_eq!(f[1].sub.as_ref().map(Vec::len), Some(3));
        assert_eq!(f[2].sub.as_ref().map(|s| s[0].name.clone()), Some("name".to_string()));
    }

    #[test]
    fn refuses_malformed() {
        for bad in ["id,", "id,,name", "messages{id", "id}", "messages.limit(3", "messages.limit{id}", "a b", ""] {
            let e = parse(bad).err().map(|e| (e.code, e.message));
            assert!(matches!(&e, Some((2500, m)) if m.starts_with("Syntax error")), "{bad}: {e:?}");
        }
        assert!(matches!(parse("messages.limit(x)"), Err(e) if e.code == 100));
    }
}
