// Package sipmsg parses, builds and serializes SIP messages: requests and
// responses, their header fields, and SIP, SIPS and tel URIs (RFC 3261 §7,
// §19, §20, §25).
//
// # Parsing
//
// [Parse] takes one whole message, such as a UDP datagram, and returns a
// [*Message]. It copies the input once; header values, URIs and typed
// views are strings that share that copy, so the input buffer can be
// reused at once. Header names are case-insensitive and compact forms
// ("v", "i", "m", ...) match their long forms; folded lines are joined.
// Parse checks the framing (start line, header syntax, Content-Length,
// CSeq) and parses the Request-URI; the typed accessors ([Message.Via], [Message.From], [Message.To],
// [Message.CSeq], [Message.Contact], ...) parse their header on first use
// and cache the result, and [Message.Validate] checks everything a UA or
// proxy relies on before acting on a request.
//
// # Limits and errors
//
// A [Parser] bounds the message size (64 KiB by default), the number of
// header fields and the length of one field. Errors are [*ParseError]
// values giving the byte offset, the reason and a short quote of the
// input; [ErrTooLarge] and [ErrUnsupportedVersion] can be tested with
// errors.Is.
//
// # Building and serializing
//
// [NewRequest], [NewResponse] (RFC 3261 §8.2.6), [NewCancel] (§9.1) and
// [NewAck] (§17.1.1.3) build messages; Add,
// Set, Del, Prepend, [Message.SetVia], [Message.PrependVia] and
// [Message.SetToTag] mutate them; [Message.AppendTo] writes the wire form
// into a caller's buffer without allocating. A parsed message in canonical
// form serializes back byte for byte.
//
// # Streams
//
// On TCP and TLS, a [Reader] frames messages by Content-Length, skips the
// CRLF keepalives between them and reports a CRLFCRLF ping (RFC 5626
// §4.4.1) so the caller can answer it.
//
// # Performance
//
// Parsing makes two or three allocations: the Message (with room for 12
// header fields) and one copy of the input shared by the header strings
// and the body; header fields are pointer-free offset records. The first
// typed accessor allocates the cache of parsed views. AppendTo into a
// buffer with room does not allocate.
//
// # Concurrency
//
// Functions are safe for concurrent use. A Message is not: one goroutine
// owns it, or it is cloned with [Message.Clone].
package sipmsg
