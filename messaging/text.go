package messaging

import "dialoog/usertext"

// ValidText reports whether s can be stored and shown (usertext.Valid).
func ValidText(s string) bool { return usertext.Valid(s) }

// CleanLine returns s as one line for a name or a subject
// (usertext.CleanLine).
func CleanLine(s string) string { return usertext.CleanLine(s) }
