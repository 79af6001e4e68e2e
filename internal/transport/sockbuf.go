package transport

// setReadBuffer asks for Config.UDPReadBuffer bytes of receive buffer on a
// UDP listener and logs when the kernel grants less.
func (m *Manager) setReadBuffer(l *listener) {
	want := m.cfg.UDPReadBuffer
	if want < 0 {
		return
	}
	if want == 0 {
		want = DefaultUDPReadBuffer
	}
	if err := l.udp.SetReadBuffer(want); err != nil {
		m.log.Info("transport: cannot set the UDP receive buffer", "local", l.local, "want", want, "err", err)
		return
	}
	if got := l.udp.ReadBuffer(); got > 0 && got < want {
		m.log.Info("transport: the kernel capped the UDP receive buffer (raise net.core.rmem_max)",
			"local", l.local, "want", want, "got", got)
	}
}
