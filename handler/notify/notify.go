// Package notify tells the security team what a response did: one SNS
// message per response, with a subject that fits SNS's limit, a body a person
// can read at a glance, and a JSON block of every step for tools.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/guardduty-response/guardduty-response/handler/playbook"
)

// Limits of what is sent. SNS refuses subjects of 100 characters or more.
const (
	maxSubject = 99
	maxText    = 500 // any one line of text taken from a finding
)

// Publisher sends reports to one SNS topic.
type Publisher struct {
	client   *sns.Client
	topicARN string
}

// NewPublisher returns a Publisher for topicARN.
func NewPublisher(client *sns.Client, topicARN string) *Publisher {
	return &Publisher{client: client, topicARN: topicARN}
}

// Publish sends the report.
func (p *Publisher) Publish(ctx context.Context, report *playbook.Report) error {
	body, err := Body(report)
	if err != nil {
		return err
	}

	_, err = p.client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.topicARN),
		Subject:  aws.String(Subject(report)),
		Message:  aws.String(body),
	})
	if err != nil {
		return fmt.Errorf("publishing to %s: %w", p.topicARN, err)
	}

	return nil
}

// Subject is a one-line summary: what happened, to what, for which finding.
// It is printable ASCII, shorter than 100 characters.
func Subject(report *playbook.Report) string {
	f := report.Finding
	s := fmt.Sprintf("GuardDuty %s: %s %.1f %s", headline(report), report.Resource,
		f.Severity, f.Type)

	return clip(ascii(s), maxSubject)
}

// headline says in a word or two what became of the resource.
func headline(report *playbook.Report) string {
	if report.Headline != "" {
		return report.Headline
	}

	switch report.Outcome {
	case playbook.Contained:
		return "CONTAINED"
	case playbook.PartlyContained:
		return "PARTLY CONTAINED, retrying"
	case playbook.DryRun:
		return "DRY RUN"
	case playbook.NotActed:
		return "NOT ACTED ON"
	case playbook.AlreadyContained:
		return "already contained"
	default:
		return "RESPONSE FAILED"
	}
}

// message is the JSON block at the end of the body.
type message struct {
	Finding  findingSummary  `json:"finding"`
	Account  string          `json:"account"`
	Resource string          `json:"resource"`
	Outcome  string          `json:"outcome"`
	Reason   string          `json:"reason,omitempty"`
	Steps    []playbook.Step `json:"steps"`
}

type findingSummary struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	Title     string  `json:"title"`
	Severity  float64 `json:"severity"`
	AccountID string  `json:"accountId"`
	Region    string  `json:"region"`
	UpdatedAt string  `json:"updatedAt,omitempty"`
	Sample    bool    `json:"sample"`
	Count     int     `json:"count"`
}

// Body is the readable message followed by its JSON form.
func Body(report *playbook.Report) (string, error) {
	m := newMessage(report)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding notification: %w", err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", Subject(report))
	fmt.Fprintf(&b, "Finding:   %s (severity %.1f)\n", m.Finding.Type, m.Finding.Severity)
	fmt.Fprintf(&b, "Title:     %s\n", m.Finding.Title)
	fmt.Fprintf(&b, "Finding id %s, account %s, region %s\n", m.Finding.ID, m.Account, m.Finding.Region)
	fmt.Fprintf(&b, "Resource:  %s\n", m.Resource)
	fmt.Fprintf(&b, "Outcome:   %s\n", m.Outcome)
	if m.Reason != "" {
		fmt.Fprintf(&b, "Reason:    %s\n", m.Reason)
	}
	if len(m.Steps) > 0 {
		b.WriteString("\nSteps:\n")
		for _, s := range m.Steps {
			b.WriteString(stepLine(s))
		}
	}
	fmt.Fprintf(&b, "\n--- JSON ---\n%s\n", data)

	return b.String(), nil
}

func newMessage(report *playbook.Report) message {
	f := report.Finding
	m := message{
		Finding: findingSummary{
			ID:        f.ID,
			Type:      f.Type,
			Title:     clip(printable(f.Title), maxText),
			Severity:  f.Severity,
			AccountID: f.AccountID,
			Region:    f.Region,
			Sample:    f.IsSample(),
			Count:     f.Count,
		},
		Account:  report.Account,
		Resource: report.Resource,
		Outcome:  string(report.Outcome),
		Reason:   clip(printable(report.Reason), maxText),
		Steps:    report.Steps(),
	}
	if !f.UpdatedAt.IsZero() {
		m.Finding.UpdatedAt = f.UpdatedAt.Format(time.RFC3339)
	}
	for i := range m.Steps {
		m.Steps[i].Error = clip(printable(m.Steps[i].Error), maxText)
	}

	return m
}

func stepLine(s playbook.Step) string {
	line := fmt.Sprintf("  %-8s %s", s.Status, s.Action)
	if s.Target != "" {
		line += " " + s.Target
	}
	if s.Detail != "" {
		line += ": " + printable(s.Detail)
	}
	if s.Error != "" {
		line += " (error: " + s.Error + ")"
	}

	return line + "\n"
}

// printable replaces control characters, so that text from a finding cannot
// start lines of its own in the message.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// ascii keeps printable ASCII only.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// clip shortens s to at most max bytes, cutting on a character boundary.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}

	cut := max - len("...")
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}

	return s[:cut] + "..."
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
