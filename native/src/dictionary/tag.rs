//! `Tag` (group, element) and `VR`, the two-letter value representations of PS3.5 §6.2.

use std::fmt;

/// A data element tag: (group, element), PS3.5 §7.1.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Tag(pub u16, pub u16);

// Tags order by group, then element (PS3.5 §7.1): the order of the 32-bit number `group << 16 | element`,
// compared in one instruction (the derived order compares the two halves one after the other).
impl Ord for Tag {
    #[inline]
    fn cmp(&self, other: &Tag) -> std::cmp::Ordering {
        self.to_u32().cmp(&other.to_u32())
    }
}

impl PartialOrd for Tag {
    #[inline]
    fn partial_cmp(&self, other: &Tag) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Tag {
    /// (FFFE,E000) Item.
    pub const ITEM: Tag = Tag(0xFFFE, 0xE000);
    /// (FFFE,E00D) Item Delimitation Item.
    pub const ITEM_DELIMITATION: Tag = Tag(0xFFFE, 0xE00D);
    /// (FFFE,E0DD) Sequence Delimitation Item.
    pub const SEQUENCE_DELIMITATION: Tag = Tag(0xFFFE, 0xE0DD);
    /// (7FE0,0010) Pixel Data.
    pub const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
    /// (7FE0,0008) Float Pixel Data.
    pub const FLOAT_PIXEL_DATA: Tag = Tag(0x7FE0, 0x0008);
    /// (7FE0,0009) Double Float Pixel Data.
    pub const DOUBLE_FLOAT_PIXEL_DATA: Tag = Tag(0x7FE0, 0x0009);
    /// (0008,0005) Specific Character Set.
    pub const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);
    /// (0002,0010) Transfer Syntax UID.
    pub const TRANSFER_SYNTAX_UID: Tag = Tag(0x0002, 0x0010);

    /// The tag as one number, `0xggggeeee`.
    #[must_use]
    pub const fn to_u32(self) -> u32 {
        ((self.0 as u32) << 16) | self.1 as u32
    }

    /// The tag of a number `0xggggeeee`.
    #[must_use]
    pub const fn from_u32(v: u32) -> Tag {
        Tag((v >> 16) as u16, (v & 0xFFFF) as u16)
    }

    /// Private tags have an odd group number (PS3.5 §7.8).
    #[must_use]
    pub const fn is_private(self) -> bool {
        self.0 % 2 == 1
    }

    /// Private creator elements are (gggg,0010)-(gggg,00FF) in an odd group (PS3.5 §7.8.1).
    #[must_use]
    pub const fn is_private_creator(self) -> bool {
        self.is_private() && self.1 >= 0x0010 && self.1 <= 0x00FF
    }

    /// Pixel Data, Float Pixel Data or Double Float Pixel Data.
    #[must_use]
    pub const fn is_pixel_data(self) -> bool {
        self.0 == 0x7FE0 && (self.1 == 0x0010 || self.1 == 0x0008 || self.1 == 0x0009)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:04X},{:04X})", self.0, self.1)
    }
}

macro_rules! vrs {
    ($($name:ident),* $(,)?) => {
        /// Value representation, PS3.5 §6.2.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
        #[allow(clippy::upper_case_acronyms)]
        pub enum VR { $($name),* }

        impl VR {
            /// Every VR, in alphabetical order.
            pub const ALL: &'static [VR] = &[$(VR::$name),*];

            /// The two letters of the VR.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(VR::$name => stringify!($name)),* }
            }

            /// The VR spelt by two bytes, if they spell one.
            #[must_use]
            #[inline]
            pub fn from_bytes(b: [u8; 2]) -> Option<VR> {
                // A table over the 26 x 26 pairs of capital letters: one load per element header instead of
                // a binary search's unpredictable branches.
                const TABLE: [Option<VR>; 676] = {
                    let names: &[&str] = &[$(stringify!($name)),*];
                    let mut t = [None; 676];
                    let mut i = 0;
                    while i < names.len() {
                        let s = names[i].as_bytes();
                        t[(s[0] - b'A') as usize * 26 + (s[1] - b'A') as usize] = Some(VR::ALL[i]);
                        i += 1;
                    }
                    t
                };
                let (x, y) = (b[0].wrapping_sub(b'A'), b[1].wrapping_sub(b'A'));
                if x >= 26 || y >= 26 {
                    return None;
                }
                TABLE[usize::from(x) * 26 + usize::from(y)]
            }
        }
    };
}

vrs!(
    AE, AS, AT, CS, DA, DS, DT, FD, FL, IS, LO, LT, OB, OD, OF, OL, OV, OW, PN, SH, SL, SQ, SS, ST, SV, TM, UC, UI, UL,
    UN, UR, US, UT, UV,
);

impl VR {
    /// The VR named by a string such as "US" (also accepts the first of "US or SS").
    #[must_use]
    pub fn parse(s: &str) -> Option<VR> {
        let b = s.as_bytes();
        if b.len() < 2 {
            return None;
        }
        VR::from_bytes([b[0], b[1]])
    }

    /// VRs whose explicit header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2, Table 7.1-1).
    #[must_use]
    pub const fn has_long_header(self) -> bool {
        matches!(
            self,
            VR::OB
                | VR::OD
                | VR::OF
                | VR::OL
                | VR::OV
                | VR::OW
                | VR::SQ
                | VR::UC
                | VR::UN
                | VR::UR
                | VR::UT
                | VR::SV
                | VR::UV
        )
    }

    /// Whether the two bytes of an explicit VR spell one with a long header ([`VR::has_long_header`]):
    /// the same answer as `VR::from_bytes(b).is_some_and(VR::has_long_header)`, without the table.
    #[must_use]
    #[inline]
    pub const fn spells_long_header(b: [u8; 2]) -> bool {
        matches!(
            &b,
            b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"UC" | b"UN" | b"UR" | b"UT" | b"SV" | b"UV"
        )
    }

    /// Character string VRs (their values are text).
    #[must_use]
    pub const fn is_text(self) -> bool {
        matches!(
            self,
            VR::AE
                | VR::AS
                | VR::CS
                | VR::DA
                | VR::DS
                | VR::DT
                | VR::IS
                | VR::LO
                | VR::LT
                | VR::PN
                | VR::SH
                | VR::ST
                | VR::TM
                | VR::UC
                | VR::UI
                | VR::UR
                | VR::UT
        )
    }

    /// Text VRs whose value is never split on backslash (PS3.5 §6.2: LT, ST, UT, UR have VM 1).
    #[must_use]
    pub const fn is_single_text(self) -> bool {
        matches!(self, VR::LT | VR::ST | VR::UT | VR::UR)
    }

    /// Text VRs affected by the Specific Character Set (PS3.5 §6.1.2.3).
    #[must_use]
    pub const fn uses_charset(self) -> bool {
        matches!(self, VR::LO | VR::LT | VR::PN | VR::SH | VR::ST | VR::UC | VR::UT)
    }

    /// Byte size of one binary number for numeric VRs (0 for others).
    #[must_use]
    pub const fn number_size(self) -> usize {
        match self {
            VR::SS | VR::US | VR::OW => 2,
            VR::SL | VR::UL | VR::FL | VR::OF | VR::OL | VR::AT => 4,
            VR::FD | VR::OD | VR::SV | VR::UV | VR::OV => 8,
            _ => 0,
        }
    }
}

impl fmt::Display for VR {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_order_by_group_then_element() {
        let halves = [0u16, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FE0, 0x8000, 0xFFFE, 0xFFFF];
        for &a in &halves {
            for &b in &halves {
                for &c in &halves {
                    for &d in &halves {
                        assert_eq!(
                            Tag(a, b).cmp(&Tag(c, d)),
                            (a, b).cmp(&(c, d)),
                            "({a:x},{b:x}) ({c:x},{d:x})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn tag_display_and_numbers() {
        let t = Tag(0x0010, 0x0010);
        assert_eq!(t.to_string(), "(0010,0010)");
        assert_eq!(Tag::from_u32(t.to_u32()), t);
        assert!(Tag(0x0009, 0x0010).is_private_creator());
        assert!(!Tag(0x0009, 0x1010).is_private_creator());
    }

    #[test]
    fn vr_round_trip() {
        for vr in VR::ALL {
            let b = vr.as_str().as_bytes();
            assert_eq!(VR::from_bytes([b[0], b[1]]), Some(*vr));
        }
        assert_eq!(VR::from_bytes(*b"ZZ"), None);
        // Every pair of bytes: a VR exactly when the two bytes spell one.
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                let want = VR::ALL.iter().copied().find(|v| v.as_str().as_bytes() == [x, y]);
                assert_eq!(VR::from_bytes([x, y]), want, "{x:02X} {y:02X}");
            }
        }
        assert!(VR::OB.has_long_header());
        assert!(!VR::US.has_long_header());
        for x in 0..=255u8 {
            for y in 0..=255u8 {
                let want = VR::from_bytes([x, y]).is_some_and(VR::has_long_header);
                assert_eq!(VR::spells_long_header([x, y]), want, "{x:02X} {y:02X}");
            }
        }
    }
}
