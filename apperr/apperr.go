// Package apperr is Dialoog's one error type: a small set of codes that
// handlers map to an HTTP status and a translated message. Detail stays in
// logs; users see only the message key.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for the user interface.
type Code string

// The codes every layer may return.
const (
	Invalid      Code = "invalid"      // bad input; the message says what to fix
	Malformed    Code = "malformed"    // input no form could have sent (a NUL byte)
	NotFound     Code = "not_found"    // unknown, or not visible to this user
	Unauthorized Code = "unauthorized" // no or wrong credentials
	Forbidden    Code = "forbidden"    // known user, not allowed
	Conflict     Code = "conflict"     // state does not allow this now
	TooMany      Code = "too_many"     // throttled
	NoSpace      Code = "no_space"     // storage is full; the message says to try later
	Internal     Code = "internal"     // a bug or an outage; shown generically
)

// Error is an error with a code, a translation key for the user and an
// optional field it belongs to.
type Error struct {
	Code  Code
	Key   string // i18n message id shown to the user
	Field string // form field the message belongs to, if any
	Err   error  // underlying cause, for logs only
	// Args fill the message's placeholders, in name and value pairs:
	// only what the user typed themselves (the address they mistyped).
	Args []any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %v", e.Key, e.Code, e.Err)
	}
	return fmt.Sprintf("%s (%s)", e.Key, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the given code and message key.
func New(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// Field returns an Invalid error tied to a form field.
func Field(field, key string) *Error { return &Error{Code: Invalid, Key: key, Field: field} }

// FieldArgs is Field with the message's arguments (see Error.Args).
func FieldArgs(field, key string, args ...any) *Error {
	return &Error{Code: Invalid, Key: key, Field: field, Args: args}
}

// CodeOf returns the code of err, Internal when it carries none.
func CodeOf(err error) Code {
	var fs Fields
	if errors.As(err, &fs) {
		return Invalid
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Fields is a set of field errors reported together, so that a form can show
// every message at once.
type Fields []*Error

func (f Fields) Error() string {
	s := "invalid fields:"
	for _, e := range f {
		s += " " + e.Field + "=" + e.Key
	}
	return s
}

// FieldsOf returns the field errors in err: all of a Fields, or the one
// field error, or nil.
func FieldsOf(err error) Fields {
	var fs Fields
	if errors.As(err, &fs) {
		return fs
	}
	if e, ok := As(err); ok && e.Field != "" {
		return Fields{e}
	}
	return nil
}
