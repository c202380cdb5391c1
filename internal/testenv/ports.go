package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// Ports are drawn below Linux's default ephemeral range (32768–60999), so a
// chosen port is not taken by some client's outgoing connection meanwhile.
const (
	minPort = 15000
	maxPort = 32000
)

// FreePort returns a random TCP port that is free on every address (for
// example "127.0.0.1"), checked by binding each one. Ports come from
// 15000–31999, below Linux's ephemeral range. Parallel test binaries draw
// independently, so a collision is rare and shows up as a bind error that
// the caller should retry with a new port.
func FreePort(addrs ...string) (int, error) {
	for range 100 {
		port := minPort + rand.IntN(maxPort-minPort)
		if portFree(addrs, port) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("find a free port on %v: 100 candidates were taken", addrs)
}

func portFree(addrs []string, port int) bool {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, a := range addrs {
		l, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		held = append(held, l)
	}
	return true
}
