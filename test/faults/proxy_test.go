//go:build unix

package faults

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// loopbackPort is a TCP port on 127.0.0.1 that a test switches between
// refusing and accepting connections. While it refuses, the socket stays
// bound without listening, so the kernel resets every connection attempt as
// for a stopped server, and no ephemeral bind elsewhere can take the port in
// the meantime.
type loopbackPort struct {
	port int

	mu       sync.Mutex
	fd       int // bound socket while refusing, -1 otherwise
	listener net.Listener
	closed   bool
}

// newLoopbackPort binds a free loopback port that refuses connections until
// listen is called. It is released when the test ends.
func newLoopbackPort(t testing.TB) *loopbackPort {
	t.Helper()
	fd, port, err := bindLoopback(0)
	if err != nil {
		t.Fatalf("binding a loopback port: %v", err)
	}
	p := &loopbackPort{port: port, fd: fd}
	t.Cleanup(p.close)
	return p
}

// Addr returns the port's address, 127.0.0.1:port.
func (p *loopbackPort) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
}

// listen makes the port accept connections and returns its listener. Close
// the listener only through refuse or close.
func (p *loopbackPort) listen() (net.Listener, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.fd < 0 {
		return nil, errors.New("loopback port is closed or already listening")
	}
	if err := syscall.Listen(p.fd, 128); err != nil {
		return nil, fmt.Errorf("listening on %s: %w", p.Addr(), err)
	}
	file := os.NewFile(uintptr(p.fd), "loopback-listener")
	listener, err := net.FileListener(file)
	// FileListener works on a duplicate, so the original descriptor is
	// closed either way.
	file.Close()
	p.fd = -1
	if err != nil {
		return nil, fmt.Errorf("wrapping listener on %s: %w", p.Addr(), err)
	}
	p.listener = listener
	return listener, nil
}

// refuse closes the listener, if any, and binds the port again without
// listening, so new connection attempts are refused.
func (p *loopbackPort) refuse() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.listener == nil {
		return nil
	}
	p.listener.Close()
	p.listener = nil
	fd, _, err := bindLoopback(p.port)
	if err != nil {
		return fmt.Errorf("binding %s again: %w", p.Addr(), err)
	}
	p.fd = fd
	return nil
}

// isRefusing reports whether the port is closed or bound without
// listening.
func (p *loopbackPort) isRefusing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed || p.listener == nil
}

func (p *loopbackPort) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	if p.fd >= 0 {
		syscall.Close(p.fd)
		p.fd = -1
	}
}

// bindLoopback returns a TCP socket bound to 127.0.0.1:port, not listening,
// and its port. SO_REUSEADDR lets it rebind a port whose earlier
// connections are still in TIME_WAIT.
func bindLoopback(port int) (fd, bound int, err error) {
	// ForkLock keeps a concurrent fork from inheriting the descriptor
	// before it is marked close-on-exec.
	syscall.ForkLock.RLock()
	fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, 0, err
	}
	if err = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err == nil {
		err = syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	}
	var address syscall.Sockaddr
	if err == nil {
		address, err = syscall.Getsockname(fd)
	}
	if err != nil {
		syscall.Close(fd)
		return -1, 0, err
	}
	return fd, address.(*syscall.SockaddrInet4).Port, nil
}

// brokerProxy forwards TCP connections from a loopbackPort to a kfake
// broker. Its listen function, given to kfake.ListenFn, makes the broker
// advertise the proxy's address in metadata, so librdkafka and test
// consumers only ever dial the proxy. An outage (down) refuses new
// connections and cuts the open ones; the broker keeps its data.
type brokerProxy struct {
	port *loopbackPort

	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// newBrokerProxy returns a proxy that refuses connections until up.
func newBrokerProxy(t testing.TB) *brokerProxy {
	t.Helper()
	p := &brokerProxy{port: newLoopbackPort(t), conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() {
		if err := p.down(); err != nil {
			t.Errorf("stopping broker proxy: %v", err)
		}
		p.wg.Wait()
	})
	return p
}

// Addr returns the proxy's address, which the broker advertises.
func (p *brokerProxy) Addr() string { return p.port.Addr() }

// listen is a kfake.ListenFn: it opens the broker's real listener and
// returns it wrapped so that it reports the proxy's address.
func (p *brokerProxy) listen(network, address string) (net.Listener, error) {
	brokerListener, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.target = brokerListener.Addr().String()
	p.mu.Unlock()
	advertised, err := net.ResolveTCPAddr("tcp", p.Addr())
	if err != nil {
		brokerListener.Close()
		return nil, err
	}
	return advertisedListener{Listener: brokerListener, addr: advertised}, nil
}

// up starts accepting and forwarding connections.
func (p *brokerProxy) up() error {
	listener, err := p.port.listen()
	if err != nil {
		return err
	}
	p.wg.Add(1)
	go p.accept(listener)
	return nil
}

// down refuses new connections and closes every forwarded one.
func (p *brokerProxy) down() error {
	err := p.port.refuse()
	p.mu.Lock()
	for conn := range p.conns {
		conn.Close()
	}
	p.mu.Unlock()
	return err
}

func (p *brokerProxy) accept(listener net.Listener) {
	defer p.wg.Done()
	for {
		client, err := listener.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		broker, err := net.Dial("tcp", target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, broker) {
			continue
		}
		p.wg.Add(2)
		go p.pipe(broker, client)
		go p.pipe(client, broker)
	}
}

// track registers both ends of a forwarded connection, or closes them when
// the proxy went down while dialing.
func (p *brokerProxy) track(client, broker net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.port.isRefusing() {
		client.Close()
		broker.Close()
		return false
	}
	p.conns[client] = struct{}{}
	p.conns[broker] = struct{}{}
	return true
}

func (p *brokerProxy) pipe(to, from net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(to, from)
	to.Close()
	from.Close()
	p.mu.Lock()
	delete(p.conns, to)
	delete(p.conns, from)
	p.mu.Unlock()
}

// advertisedListener is a listener that reports another address than the
// one it accepts on.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }
