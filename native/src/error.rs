//! The one error type of the core: every failure names the byte offset, the tag and what was wrong.
//!
//! Parse variants carry `offset` and `tag`; codec variants carry the transfer syntax UID and the frame
//! (STYLE.md §3). The mapping to Python exceptions lives only in `py/errors.rs`.

use std::fmt;

use crate::dictionary::Tag;

/// Shorthand for results of the core.
pub type Result<T> = std::result::Result<T, Error>;

/// Formats an optional tag as `(gggg,eeee)` or `-`.
struct OptTag(Option<Tag>);

impl fmt::Display for OptTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(t) => write!(f, "{t}"),
            None => f.write_str("-"),
        }
    }
}

/// Every error of the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the source failed (file missing, permissions, ...).
    #[error("{0}")]
    Io(#[from] std::io::Error),

    /// The bytes are not a DICOM file (no "DICM" prefix and `force` not given, or nothing recognisable).
    #[error("{reason} at byte {offset}")]
    NotDicom {
        /// Byte offset where the check failed.
        offset: u64,
        /// What was expected.
        reason: String,
    },

    /// The data set structure is malformed.
    #[error("{reason}: element {} at byte {offset}", OptTag(*.tag))]
    Parse {
        /// Byte offset of the element header (or of the fault).
        offset: u64,
        /// The tag being read, when known.
        tag: Option<Tag>,
        /// What was wrong, and how to fix it where possible.
        reason: String,
    },

    /// A resource limit was hit (nesting depth, element count, decoded size).
    #[error("{reason}: element {} at byte {offset} (limit {limit}: {how})", OptTag(*.tag))]
    Limit {
        /// Byte offset where the limit was reached.
        offset: u64,
        /// The tag being read, when known.
        tag: Option<Tag>,
        /// Which limit.
        limit: &'static str,
        /// What exceeded it.
        reason: String,
        /// How to raise it.
        how: &'static str,
    },

    /// A value could not be decoded into its VR's type.
    #[error("The {} value {reason}", OptTag(*.tag))]
    Value {
        /// The element's tag.
        tag: Option<Tag>,
        /// What was wrong.
        reason: String,
    },

    /// Pixel data could not be decoded.
    #[error("Frame {frame} ({ts_uid}): {reason}")]
    Decode {
        /// Transfer syntax UID of the pixel data.
        ts_uid: String,
        /// Zero-based frame index.
        frame: usize,
        /// What was wrong.
        reason: String,
    },

    /// No decoder (or encoder) exists for this transfer syntax.
    #[error("Transfer syntax {ts_uid} ({name}) is not supported: {reason}")]
    UnsupportedTransferSyntax {
        /// The UID.
        ts_uid: String,
        /// Its name, when known.
        name: String,
        /// Why.
        reason: String,
    },

    /// A value given by the caller does not fit (wrong type, invalid for its VR, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// A parse error at `offset` for `tag`.
    pub fn parse(offset: u64, tag: Option<Tag>, reason: impl Into<String>) -> Self {
        Error::Parse {
            offset,
            tag,
            reason: reason.into(),
        }
    }

    /// A decode error for `frame` of a `ts_uid` stream.
    pub fn decode(ts_uid: &str, frame: usize, reason: impl Into<String>) -> Self {
        Error::Decode {
            ts_uid: ts_uid.to_owned(),
            frame,
            reason: reason.into(),
        }
    }

    /// The byte offset this error is attached to, if any.
    #[must_use]
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::NotDicom { offset, .. } | Error::Parse { offset, .. } | Error::Limit { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// The tag this error is attached to, if any.
    #[must_use]
    pub fn tag(&self) -> Option<Tag> {
        match self {
            Error::Parse { tag, .. } | Error::Limit { tag, .. } | Error::Value { tag, .. } => *tag,
            _ => None,
        }
    }
}
