//! The DICOM data dictionary: tags, VRs, keywords, transfer syntaxes and SOP classes.
//!
//! - [`tag`]: `Tag` and `VR`.
//! - [`generated`]: the tables, generated from `../shared/dictionary` by `scripts/gen_dictionary.py`.

pub mod generated;
pub mod tag;

pub use tag::{Tag, VR};

/// One data element of PS3.6 (or PS3.7 for the command group).
#[derive(Debug)]
pub struct DictEntry {
    /// The tag as `0xggggeeee` (for repeaters: with the `xx` digits zero).
    pub tag: u32,
    /// The VR used when reading implicit VR data (the first of an ambiguous "US or SS").
    pub vr: VR,
    /// The VR as the standard writes it, e.g. "US or SS", "OB or OW".
    pub vr_spec: &'static str,
    /// Value multiplicity, e.g. "1", "1-n", "2-2n".
    pub vm: &'static str,
    /// Keyword, e.g. "PatientName" (empty for a few retired elements).
    pub keyword: &'static str,
    /// Name, e.g. "Patient's Name".
    pub name: &'static str,
    /// Retired from the standard.
    pub retired: bool,
}

/// A repeating-group element: matches a tag when `tag & mask == value`.
#[derive(Debug)]
pub struct RepeaterEntry {
    /// Bits that must match.
    pub mask: u32,
    /// Their value.
    pub value: u32,
    /// The element.
    pub entry: DictEntry,
}

/// A transfer syntax, PS3.5 §10 and PS3.6 Table A-1.
#[derive(Debug)]
pub struct TransferSyntax {
    /// UID.
    pub uid: &'static str,
    /// Keyword, e.g. "ExplicitVRLittleEndian".
    pub keyword: &'static str,
    /// Name.
    pub name: &'static str,
    /// Explicit VR encoding.
    pub explicit_vr: bool,
    /// Big endian byte order.
    pub big_endian: bool,
    /// The data set after the file meta is deflated (PS3.5 §A.5).
    pub deflated: bool,
    /// Pixel data is encapsulated (PS3.5 §A.4).
    pub encapsulated: bool,
    /// Retired.
    pub retired: bool,
}

/// A UID of the standard (SOP class or transfer syntax).
#[derive(Debug)]
pub struct UidEntry {
    /// The UID.
    pub uid: &'static str,
    /// Keyword, e.g. "CTImageStorage".
    pub keyword: &'static str,
    /// Name.
    pub name: &'static str,
    /// "SOP Class" or "Transfer Syntax".
    pub kind: &'static str,
}

/// The dictionary entry of a tag: exact match first, then repeating groups (even groups only:
/// odd groups are private, PS3.5 §7.8), then the generic group length (gggg,0000) UL.
#[must_use]
pub fn lookup(tag: Tag) -> Option<&'static DictEntry> {
    let t = tag.to_u32();
    if let Ok(i) = generated::ELEMENTS.binary_search_by_key(&t, |e| e.tag) {
        return generated::ELEMENTS.get(i);
    }
    if tag.is_private() {
        return None;
    }
    generated::REPEATERS
        .iter()
        .find(|r| t & r.mask == r.value)
        .map(|r| &r.entry)
}

/// The VR to use for `tag` when the encoding does not say (implicit VR, PS3.5 §7.1.3).
#[must_use]
pub fn implicit_vr(tag: Tag) -> VR {
    if tag.1 == 0x0000 && !tag.is_private() {
        return VR::UL; // group length, PS3.5 §7.2 (private group lengths stay UN, as pydicom reads them)
    }
    if tag.is_private_creator() {
        return VR::LO; // PS3.5 §7.8.1
    }
    match lookup(tag) {
        Some(e) => e.vr,
        None => VR::UN,
    }
}

/// The tag of a keyword, e.g. "PatientName" -> (0010,0010).
#[must_use]
pub fn tag_for_keyword(keyword: &str) -> Option<Tag> {
    let idx = &generated::KEYWORD_INDEX;
    let pos = idx
        .binary_search_by(|&i| {
            generated::ELEMENTS
                .get(i as usize)
                .map_or("", |e| e.keyword)
                .cmp(keyword)
        })
        .ok()?;
    let i = *idx.get(pos)? as usize;
    generated::ELEMENTS.get(i).map(|e| Tag::from_u32(e.tag))
}

/// The keyword of a tag, if it has one.
#[must_use]
pub fn keyword_for_tag(tag: Tag) -> Option<&'static str> {
    lookup(tag).map(|e| e.keyword).filter(|k| !k.is_empty())
}

/// The transfer syntax of a UID (trailing NUL or space padding ignored).
#[must_use]
pub fn transfer_syntax(uid: &str) -> Option<&'static TransferSyntax> {
    let uid = uid.trim_end_matches(['\0', ' ']);
    generated::TRANSFER_SYNTAXES.iter().find(|t| t.uid == uid)
}

/// The entry of a well-known UID.
#[must_use]
pub fn uid(uid: &str) -> Option<&'static UidEntry> {
    let uid = uid.trim_end_matches(['\0', ' ']);
    generated::UIDS
        .binary_search_by(|e| e.uid.cmp(uid))
        .ok()
        .and_then(|i| generated::UIDS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let pn = lookup(Tag(0x0010, 0x0010)).expect("PatientName");
        assert_eq!(pn.keyword, "PatientName");
        assert_eq!(pn.vr, VR::PN);
        assert_eq!(tag_for_keyword("PatientName"), Some(Tag(0x0010, 0x0010)));
        assert_eq!(tag_for_keyword("NotAKeyword"), None);
        assert_eq!(implicit_vr(Tag(0x0009, 0x0010)), VR::LO);
        assert_eq!(implicit_vr(Tag(0x0009, 0x1010)), VR::UN);
        assert_eq!(implicit_vr(Tag(0x0018, 0x0000)), VR::UL);
        assert_eq!(tag_for_keyword("CommandField"), Some(Tag(0x0000, 0x0100)));
    }

    #[test]
    fn repeaters() {
        let e = lookup(Tag(0x6002, 0x3000)).expect("OverlayData in group 6002");
        assert_eq!(e.keyword, "OverlayData");
        assert!(lookup(Tag(0x6001, 0x3000)).is_none());
        assert_eq!(
            lookup(Tag(0x0028, 0x0410)).map(|e| e.keyword),
            Some("RowsForNthOrderCoefficients")
        );
    }

    #[test]
    fn uids() {
        let ts = transfer_syntax("1.2.840.10008.1.2.1\0").expect("explicit LE");
        assert!(ts.explicit_vr && !ts.big_endian);
        assert_eq!(
            uid("1.2.840.10008.5.1.4.1.1.2").map(|u| u.keyword),
            Some("CTImageStorage")
        );
    }
}
