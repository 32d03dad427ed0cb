//! Wire helpers used by the generated serde attributes.
//!
//! Integers of request-direction types accept JSON numbers and numeric strings (`"AppSize":
//! "1024"`): GET and legacy-v1 requests carry every value as a string, and the official examples
//! do too. They always serialize as JSON numbers.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// An integer type that can be read leniently.
pub(crate) trait LenientInt: Sized + Copy {
    const EXPECTED: &'static str;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_decimal(s: &str) -> Option<Self>;
}

impl LenientInt for u64 {
    const EXPECTED: &'static str = "an unsigned 64-bit integer (number or numeric string)";
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok()
    }
    fn from_decimal(s: &str) -> Option<Self> {
        if s.starts_with('+') {
            return None;
        }
        s.parse().ok()
    }
}

impl LenientInt for i64 {
    const EXPECTED: &'static str = "a signed 64-bit integer (number or numeric string)";
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_decimal(s: &str) -> Option<Self> {
        if s.starts_with('+') {
            return None;
        }
        s.parse().ok()
    }
}

/// A number or a numeric string.
pub(crate) struct Lenient<T>(pub(crate) T);

struct LenientVisitor<T>(PhantomData<T>);

impl<T: LenientInt> Visitor<'_> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::from_u64(v)
            .map(Lenient)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::from_i64(v)
            .map(Lenient)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::from_decimal(v)
            .map(Lenient)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

impl<'de, T: LenientInt> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LenientVisitor(PhantomData))
    }
}

/// A required integer.
pub(crate) fn int<'de, D: Deserializer<'de>, T: LenientInt>(d: D) -> Result<T, D::Error> {
    Lenient::<T>::deserialize(d).map(|v| v.0)
}

/// An optional integer (`null` or absent is `None`).
pub(crate) fn opt_int<'de, D: Deserializer<'de>, T: LenientInt>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Lenient<T>>::deserialize(d).map(|v| v.map(|v| v.0))
}

/// A required array of integers (no table has one today; kept for table edits).
#[allow(dead_code)]
pub(crate) fn vec_int<'de, D: Deserializer<'de>, T: LenientInt>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<Lenient<T>>::deserialize(d).map(|v| v.into_iter().map(|v| v.0).collect())
}

/// An optional array of integers.
pub(crate) fn opt_vec_int<'de, D: Deserializer<'de>, T: LenientInt>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<Lenient<T>>>::deserialize(d)
        .map(|v| v.map(|v| v.into_iter().map(|v| v.0).collect()))
}
