//! A QR code drawn in the terminal, so that a phone can open a device
//! sign-in's verification page: two modules a character with Unicode half
//! blocks (`▀`, `▄`, `█`), light modules drawn in the text's colour on the
//! terminal's background, as `qrencode -t UTF8` does for the usual light
//! text on a dark background, with the quiet zone around it.

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

/// `text` as a QR code in half blocks, one line a pair of module rows;
/// `None` when it is too long for a QR code.
#[must_use]
pub fn render(text: &str) -> Option<String> {
    // Low error correction: the smallest code, read from a screen.
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::L).ok()?;
    Some(code.render::<Dense1x2>().dark_color(Dense1x2::Light).light_color(Dense1x2::Dark).quiet_zone(true).build())
}

#[cfg(test)]
mod tests;
