package notify

// RejectedError is a delivery error that no retry can fix: the transport
// answered that it refuses this message or this recipient (an SMTP 5xx reply
// to RCPT TO or to the message, a gateway's 400, 413 or 422). The outbox marks
// the row failed at once. A transport returns it wrapped around the error it
// met.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// DeferredError is a temporary refusal of this one message (an SMTP 4xx reply
// to RCPT TO or to the message, such as a full mailbox or greylisting): the
// row is retried after its backoff, but the transport is working, so the lane
// is not considered down.
//
// Every other delivery error counts as the transport being unavailable (no
// connection, a timeout, TLS or login trouble, an SMTP 421, a gateway's 5xx,
// 401, 403, 404, 408 or 429): the row is retried after its backoff, the lane
// sends one row at a time until the transport answers again, and then re-arms
// its waiting rows.
type DeferredError struct{ Err error }

func (e *DeferredError) Error() string { return e.Err.Error() }
func (e *DeferredError) Unwrap() error { return e.Err }
