package httpx

import (
	"unicode"
	"unicode/utf8"
)

// Printable reports whether s is text a name or title may hold: valid
// UTF-8 without control characters (NUL, newlines, escapes) or format
// characters (Unicode Cf: bidi embeddings, overrides and isolates, zero
// width joiners, BOM) that make one name display as another in the
// dashboard, the audit log or the public status page (issue 11 item 9).
func Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if UnsafeRune(r) {
			return false
		}
	}
	return true
}

// UnsafeRune reports a control or format character (see Printable).
func UnsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// CheckPrintable is the 400 for a field that is not Printable, or nil.
func CheckPrintable(field, s string) error {
	if Printable(s) {
		return nil
	}
	return Invalid("%s must be printable text (no control or bidi characters)", field)
}
