//! Writing a client's long tail (`clients.data`) straight from the client, in one pass.
//!
//! serde's derive hands a struct's fields to its serializer one by one, each with its name as a
//! `&'static str`, in declaration order, and says `skip_field` for a field it leaves out; so
//! the serializer here decides each field's fate by its name (see
//! [`ClientColumns`](super::client_row::ClientColumns)) once, then by its position. Only the
//! fields no column carries are written: a sync pays for the tail, not for a second pass over
//! the whole client's JSON.

use std::sync::OnceLock;

use serde::ser::{Impossible, Serialize, SerializeStruct, Serializer};

/// What becomes of one field of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fate {
    /// A column or a child table holds it: not in the tail.
    Carried,
    /// A flag's column says yes or no, not "absent": in the tail only when null.
    Flag,
    /// A reference's two columns cannot say "an element with neither UUID nor name": in the tail
    /// only then.
    Reference,
    /// No column: always in the tail.
    Tail,
}

/// The fates of the client's fields in declaration order, learnt from the first client written.
pub(super) type Fates = OnceLock<Vec<(&'static str, Fate)>>;

/// The tail of `value` (a client) as a JSON object, each field's fate from `fate_of` (by name)
/// or, once learnt, from `fates` (by position).
pub(super) fn write<T: Serialize>(value: &T, fates: &Fates, fate_of: &dyn Fn(&str) -> Fate) -> String {
    let bytes = value
        .serialize(TailSerializer { fates, fate_of })
        .expect("a client serialises as a struct of JSON values");
    String::from_utf8(bytes).expect("serde_json writes UTF-8")
}

struct TailSerializer<'a> {
    fates: &'a Fates,
    fate_of: &'a dyn Fn(&str) -> Fate,
}

struct TailFields<'a> {
    fates: &'a Fates,
    fate_of: &'a dyn Fn(&str) -> Fate,
    out: Vec<u8>,
    index: usize,
    /// The fates met so far, while `fates` is not yet known.
    learnt: Vec<(&'static str, Fate)>,
}

impl TailFields<'_> {
    fn fate(&mut self, key: &'static str) -> Fate {
        let index = self.index;
        self.index += 1;
        if let Some(&(name, fate)) = self.fates.get().and_then(|f| f.get(index)) {
            if name == key {
                return fate;
            }
        }
        let fate = (self.fate_of)(key);
        if self.learnt.len() == index {
            self.learnt.push((key, fate));
        }
        fate
    }

    fn push(&mut self, key: &str, json: &[u8]) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        self.out.push(b'"');
        // Field names are Rust identifiers: nothing to escape.
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out.extend_from_slice(json);
    }
}

impl SerializeStruct for TailFields<'_> {
    type Ok = Vec<u8>;
    type Error = serde_json::Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        let kept = match self.fate(key) {
            Fate::Carried => return Ok(()),
            Fate::Tail => serde_json::to_vec(value)?,
            Fate::Flag => match serde_json::to_vec(value)? {
                json if json == b"null" => json,
                _ => return Ok(()),
            },
            Fate::Reference => match serde_json::to_vec(value)? {
                json if json == br#"{"uuid":null,"name":null}"# => json,
                _ => return Ok(()),
            },
        };
        self.push(key, &kept);
        Ok(())
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
        self.fate(key);
        Ok(())
    }

    fn end(mut self) -> Result<Vec<u8>, Self::Error> {
        self.out.push(b'}');
        if self.learnt.len() == self.index {
            let learnt = std::mem::take(&mut self.learnt);
            self.fates.get_or_init(|| learnt);
        }
        Ok(self.out)
    }
}

fn not_a_struct() -> serde_json::Error {
    serde::ser::Error::custom("the long tail is written from a struct")
}

/// Everything but `serialize_struct` refuses: the tail is only ever written from a client.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Vec<u8>, serde_json::Error> {
            Err(not_a_struct())
        })*
    };
}

impl<'a> Serializer for TailSerializer<'a> {
    type Ok = Vec<u8>;
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<Vec<u8>, serde_json::Error>;
    type SerializeTuple = Impossible<Vec<u8>, serde_json::Error>;
    type SerializeTupleStruct = Impossible<Vec<u8>, serde_json::Error>;
    type SerializeTupleVariant = Impossible<Vec<u8>, serde_json::Error>;
    type SerializeMap = Impossible<Vec<u8>, serde_json::Error>;
    type SerializeStruct = TailFields<'a>;
    type SerializeStructVariant = Impossible<Vec<u8>, serde_json::Error>;

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Vec<u8>, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<u8>, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<u8>, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(not_a_struct())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<TailFields<'a>, Self::Error> {
        Ok(TailFields {
            fates: self.fates,
            fate_of: self.fate_of,
            out: Vec::from(*b"{"),
            index: 0,
            learnt: Vec::new(),
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(not_a_struct())
    }
}
