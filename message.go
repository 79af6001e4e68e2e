package xphone

// Message is an instant message (SIP MESSAGE, RFC 3428) received by
// Phone.OnMessage.
type Message struct {
	// From and To are the sender's and the recipient's URIs.
	From, To string
	// ContentType is the body's media type, e.g. "text/plain;charset=UTF-8".
	ContentType string
	// Body is the message itself.
	Body []byte
}
