package emulator

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Region is where everything in the emulator lives.
const Region = "us-east-1"

// DefaultAccount is the account moto answers for with plain test keys.
const DefaultAccount = "123456789012"

// Moto is a running moto_server.
type Moto struct {
	// Endpoint is the URL to give the SDK as its base endpoint.
	Endpoint string
	proc     *process

	mu    sync.Mutex
	admin Keys // set once EnforceIAM has made an administrator
}

// MotoOptions change how moto_server starts.
type MotoOptions struct {
	// AuthAfter, when positive, makes moto enforce IAM permissions after
	// that many unchecked calls (INITIAL_NO_AUTH_ACTION_COUNT).
	AuthAfter int
}

// StartMoto starts moto_server on a free loopback port.
func StartMoto(ctx context.Context, opts MotoOptions) (*Moto, error) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		return nil, fmt.Errorf("moto_server %w: pip install 'moto[server]==5.2.1'", errNotFound)
	}

	addr, err := freeAddress()
	if err != nil {
		return nil, err
	}
	host, port := splitHostPort(addr)

	env := os.Environ()
	if opts.AuthAfter > 0 {
		env = append(env, fmt.Sprintf("INITIAL_NO_AUTH_ACTION_COUNT=%d", opts.AuthAfter))
	}

	proc, err := start("moto_server", []string{"-H", host, "-p", port}, env)
	if err != nil {
		return nil, err
	}

	m := &Moto{Endpoint: "http://" + addr, proc: proc}
	if err := proc.waitHTTP(ctx, m.Endpoint+"/moto-api/", 30*time.Second); err != nil {
		proc.stop()
		return nil, err
	}

	return m, nil
}

// Stop ends moto_server.
func (m *Moto) Stop() { m.proc.stop() }

// Reset forgets every resource in every account.
func (m *Moto) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint+"/moto-api/reset", nil)
	if err != nil {
		return err
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("resetting moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("resetting moto: %s", resp.Status)
	}

	return nil
}

// Config returns an SDK configuration that talks to moto with the given
// keys (any non-empty pair works until moto enforces IAM). Once EnforceIAM
// has run, TestAccessKey stands for its administrator, so that code written
// for an emulator that checks nothing works unchanged.
func (m *Moto) Config(accessKey, secretKey string) aws.Config {
	m.mu.Lock()
	admin := m.admin
	m.mu.Unlock()
	if accessKey == TestAccessKey && admin.AccessKeyID != "" {
		accessKey, secretKey = admin.AccessKeyID, admin.SecretAccessKey
	}

	return m.rawConfig(accessKey, secretKey, "")
}

// TestKeys are keys moto accepts for the default account while it does not
// enforce IAM.
const (
	TestAccessKey = "AKIAIOSFODNN7EXAMPLE"
	TestSecretKey = "test-secret"
)
