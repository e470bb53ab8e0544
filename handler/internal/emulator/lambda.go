package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Function is the compiled bootstrap running under aws-lambda-rie.
type Function struct {
	url  string
	proc *process
}

// RIEPath finds aws-lambda-rie: $AWS_LAMBDA_RIE, then PATH, then $GOPATH/bin.
func RIEPath() (string, error) {
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}

	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(string(bytes.TrimSpace(out)), "bin", "aws-lambda-rie")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}

	return "", fmt.Errorf("aws-lambda-rie %w: run make tools", errNotFound)
}

// BuildBootstrap compiles the handler for this machine into dir, the way
// `make bootstrap` does, and returns the binary's path.
func BuildBootstrap(moduleRoot, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, "./handler")
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building bootstrap: %w: %s", err, msg)
	}

	return out, nil
}

// StartFunction runs bootstrap under aws-lambda-rie with env added to this
// process's environment. Each function gets its own runtime API and invoke
// addresses, so that several run side by side like Lambda's separate
// execution environments.
func StartFunction(ctx context.Context, bootstrap string, env []string) (*Function, error) {
	rie, err := RIEPath()
	if err != nil {
		return nil, err
	}

	runtimeAPI, err := freeAddress()
	if err != nil {
		return nil, err
	}
	invokeAddr, err := freeAddress()
	if err != nil {
		return nil, err
	}

	args := []string{"--runtime-api-address", runtimeAPI,
		"--runtime-interface-emulator-address", invokeAddr, bootstrap}
	proc, err := start(rie, args, append(os.Environ(), env...))
	if err != nil {
		return nil, err
	}

	f := &Function{
		url:  "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		proc: proc,
	}
	if err := waitListening(ctx, invokeAddr, proc); err != nil {
		proc.stop()
		return nil, err
	}

	return f, nil
}

// Stop ends the emulator and the bootstrap.
func (f *Function) Stop() { f.proc.stop() }

// Logs returns what the emulator and the bootstrap have written.
func (f *Function) Logs() string { return f.proc.Output() }

// InvokeError is the error a function invocation returned.
type InvokeError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *InvokeError) Error() string { return e.Type + ": " + e.Message }

// Invoke sends one event and waits for the function's answer. A function
// error comes back as *InvokeError.
func (f *Function) Invoke(ctx context.Context, event []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(event))
	if err != nil {
		return err
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("invoking function: %w", err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading function answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoking function: %s: %s", resp.Status, body)
	}

	var fnErr InvokeError
	if json.Unmarshal(body, &fnErr) == nil && fnErr.Type != "" {
		return &fnErr
	}

	return nil
}

func waitListening(ctx context.Context, addr string, proc *process) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err == nil {
			conn.Close()
			return nil
		}

		select {
		case <-proc.done:
			return fmt.Errorf("aws-lambda-rie exited: %s", proc.Output())
		case <-time.After(20 * time.Millisecond):
		}
	}

	return fmt.Errorf("aws-lambda-rie did not listen on %s: %s", addr, proc.Output())
}
