// Package transport carries SIP messages over UDP, TCP and TLS, on IPv4 and
// IPv6 (RFC 3261 §18). It sits between sipmsg, which parses and serializes
// messages, and the transaction layer, which calls [Manager.Send] and takes
// [Inbound] messages from the [Handler] in [Config].
//
// # Sockets and connections
//
// A [Manager] holds one listening socket per transport (and address
// family) and the TCP and TLS connections accepted on them or dialed by
// Send. A stream connection is reused for every later message to the same
// remote address; a message that came in on one carries its ConnID in
// [Inbound].Source, and Send with that [Addr] answers over the same
// connection while it is open. Outbound connections come from an ephemeral
// local port, not the listening port; the Via that [Manager.Via] builds
// names the listening port, where the peer can open a connection back
// (RFC 3261 §18.2.2). A connection closes after IdleTimeout without traffic
// in either direction, when the peer begins a message and does not finish
// it within ReadTimeout, when its framing is lost (RFC 3261 §18.3), or when
// a keepalive ping goes unanswered; [Config].OnConnClosed hears why.
//
// TLS verifies the server certificate of every connection it dials against
// the configured RootCAs or the system pool, unless the loudly named
// InsecureSkipTLSVerifyForLabsOnly is set.
//
// # What happens to an inbound message
//
// Datagrams over the size limit or that do not parse are dropped and
// counted ([Stats]); a lone CRLF keepalive is ignored. A request that parses
// but fails [sipmsg.Message.Validate] is answered statelessly with 400 and a
// reason phrase naming the problem (RFC 3261 §8.2, §21.4.1). A valid request
// gets received and rport filled in its top Via (RFC 3261 §18.2.1,
// RFC 3581 §4) before the Handler sees it. A response is dropped when it
// fails validation or its top Via's sent-by is not this side's
// (RFC 3261 §18.1.2).
//
// Send routes a response from its top Via (RFC 3261 §18.2.2, RFC 3581 §4):
// over the request's connection on streams, to the source address and port
// on UDP when rport was requested.
//
// On Linux, with [Config].OnUnreachable, the ICMP errors (port, host or
// network unreachable) that answer datagrams sent from a UDP listener are
// read from the socket's error queue and handed over with the datagram
// they quote (RFC 3261 §18.4): the transaction layer ends the request at
// once instead of retransmitting it to nobody until Timer B or F.
//
// # Keepalive
//
// A CRLFCRLF ping on a stream is answered with a CRLF pong
// (RFC 5626 §4.4.1). [Manager.Keepalive] sends a double CRLF datagram on
// UDP and a ping on a stream; a pong that does not come within
// KeepaliveTimeout closes the connection with [ErrKeepaliveTimeout].
//
// # Goroutines
//
// UDPReaders goroutines per UDP socket, one accept loop per TCP or TLS
// listener and one reader per stream connection: never one per message.
// The Handler runs on them. [Manager.Close] stops them all and waits.
//
// # Load
//
// Each UDP socket asks for a 2 MiB receive buffer (Config.UDPReadBuffer):
// with the kernel's default (about 208 KB) a burst of INVITEs or a short
// stall of the reader overflows it, and every datagram lost comes back
// as a retransmission. One reader per socket is the default and, on
// loopback under SIPp load, ran clean at higher rates than two, which
// contend for the socket's read lock.
package transport
