// Package udpsock is UDP sockets that Go's network poller never sees, for
// the two places where the poller costs more than it gives: the media
// sockets, read by a few scheduler goroutines that poll them, and a SIP
// UDP listener, read by a goroutine that blocks in recvmmsg(2).
//
// Every net.UDPConn is registered with the runtime's epoll instance, so
// each arriving datagram wakes whichever thread waits in it, even when no
// goroutine waits on that socket, and a goroutine blocked on a socket is
// woken through the scheduler. On a virtual machine each of those thread
// wake-ups is a costly context switch. A Conn is a plain file descriptor:
// non-blocking for polling, or blocking for a dedicated reader, with
// datagrams read in batches (Batch) and sent without allocation.
//
// The package exists on Linux for amd64 and arm64 (Supported); elsewhere
// its users keep net.UDPConn.
package udpsock
