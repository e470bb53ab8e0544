// Command stacks lists the stacks under stacks/ with their account, region,
// role, environment and roll-out wave:
//
//	go run ./infra/cmd/stacks
//
// With -github it prints a GitHub Actions matrix instead, as the lines
// matrix=… and count=… for $GITHUB_OUTPUT, optionally narrowed to one
// environment and wave:
//
//	go run ./infra/cmd/stacks -github -environment production -wave 2
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/guardduty-response/guardduty-response/infra/project"
)

func main() {
	dir := flag.String("dir", "stacks", "folder of the stack files")
	github := flag.Bool("github", false, "print a GitHub Actions matrix")
	environment := flag.String("environment", "", "with -github, only this environment")
	wave := flag.Int("wave", 0, "with -github, only this wave (1, 2 or 3)")
	flag.Parse()

	if err := run(os.Stdout, *dir, *github, *environment, *wave); err != nil {
		fmt.Fprintln(os.Stderr, "stacks:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, dir string, github bool, environment string, wave int) error {
	stacks, err := project.Load(dir)
	if err != nil {
		return err
	}

	if !github {
		return table(w, stacks)
	}

	if environment != "" || wave != 0 {
		stacks = project.Select(stacks, environment, wave)
	}
	matrix, err := project.Matrix(stacks)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "matrix=%s\ncount=%d\n", matrix, len(stacks))

	return err
}

func table(w io.Writer, stacks []project.Stack) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tACCOUNT\tREGION\tROLE\tENVIRONMENT\tWAVE")
	for _, s := range stacks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", s.Name, s.AccountID, s.Region, s.Role,
			s.Environment, s.Wave)
	}

	return tw.Flush()
}
