package stack

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// emulator is a moto_server on a loopback port, shared by the tests of this
// package and stopped by TestMain.
type emulator struct {
	once sync.Once
	url  string
	cmd  *exec.Cmd
	err  error
}

var moto emulator

func TestMain(m *testing.M) {
	code := m.Run()
	moto.stop()
	os.Exit(code)
}

// emulatorConfig returns an AWS SDK configuration aimed at the emulator,
// skipping the test only when moto_server is not installed.
func emulatorConfig(t *testing.T) aws.Config {
	t.Helper()

	if _, err := exec.LookPath("moto_server"); err != nil {
		t.Skip("moto_server is not installed (pip install 'moto[server]'); make test installs it")
	}

	moto.once.Do(moto.start)
	if moto.err != nil {
		t.Fatalf("starting moto_server: %v", moto.err)
	}

	return aws.Config{
		Region:       testRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(moto.url),
	}
}

func (e *emulator) start() {
	port, err := freePort()
	if err != nil {
		e.err = err
		return
	}

	e.url = "http://127.0.0.1:" + strconv.Itoa(port)
	e.cmd = exec.Command("moto_server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	if e.err = e.cmd.Start(); e.err != nil {
		return
	}

	e.err = e.waitReady()
}

// waitReady polls the emulator until it answers, for at most 30 seconds.
func (e *emulator) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url+"/moto-api/reset", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("moto_server did not answer on %s: %w", e.url, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *emulator) stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		e.cmd.Process.Kill()
		e.cmd.Wait()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()

	return l.Addr().(*net.TCPAddr).Port, nil
}
