package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

const (
	dockerfilePath   = "../../Dockerfile"
	dockerignorePath = "../../.dockerignore"
	binaryPath       = "/usr/local/bin/squarebot"
)

// distrolessGlibc matches the distroless images that carry glibc, which the
// cgo build links against. The static images have no C library.
var distrolessGlibc = regexp.MustCompile(`^gcr\.io/distroless/(base|cc)(-nossl)?-debian12(:[a-z0-9-]+)?(@sha256:[a-f0-9]{64})?$`)

// parseDockerfile parses the Dockerfile into stages, failing the test on a
// parse error or on a warning from the parser or BuildKit's linter.
func parseDockerfile(t *testing.T) []instructions.Stage {
	t.Helper()

	f, err := os.Open(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	result, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parsing Dockerfile: %v", err)
	}
	for _, warning := range result.Warnings {
		t.Errorf("Dockerfile parser warning: %s", warning.Short)
	}
	lint := linter.New(&linter.Config{
		Warn: func(rule, description, _, message string, location []parser.Range) {
			t.Errorf("Dockerfile lint %s at %v: %s", rule, location, message)
		},
	})
	stages, _, err := instructions.Parse(result.AST, lint)
	if err != nil {
		t.Fatalf("reading Dockerfile instructions: %v", err)
	}
	return stages
}

// commands returns the commands of type T in a stage, in order.
func commands[T instructions.Command](stage instructions.Stage) []T {
	var found []T
	for _, command := range stage.Commands {
		if c, ok := command.(T); ok {
			found = append(found, c)
		}
	}
	return found
}

func TestDockerfileStages(t *testing.T) {
	stages := parseDockerfile(t)

	if len(stages) != 2 {
		t.Fatalf("found %d stages, expected a build stage and a runtime stage", len(stages))
	}
	if stages[0].BaseName != "golang:1.26-bookworm" {
		t.Errorf("build stage base %q, expected golang:1.26-bookworm", stages[0].BaseName)
	}
	if !distrolessGlibc.MatchString(stages[1].BaseName) {
		t.Errorf("runtime stage base %q, expected a glibc distroless image (base or cc, Debian 12)", stages[1].BaseName)
	}
}

func TestDockerfileBuildStage(t *testing.T) {
	build := parseDockerfile(t)[0]
	env := map[string]string{}
	for _, c := range commands[*instructions.EnvCommand](build) {
		for _, pair := range c.Env {
			env[pair.Key] = pair.Value
		}
	}
	var goBuild string
	for _, c := range commands[*instructions.RunCommand](build) {
		line := strings.Join(c.CmdLine, " ")
		if strings.Contains(line, "go build") {
			goBuild = line
		}
	}

	if env["CGO_ENABLED"] != "1" {
		t.Errorf("build stage ENV CGO_ENABLED = %q, expected 1 for the bundled librdkafka", env["CGO_ENABLED"])
	}
	for _, arg := range []string{"VERSION", "COMMIT", "BUILD_DATE"} {
		if !declaresArg(build, arg) {
			t.Errorf("build stage does not declare ARG %s", arg)
		}
	}
	for _, part := range []string{
		"-trimpath",
		"-s -w",
		"-X main.version=${VERSION}",
		"-X main.commit=${COMMIT}",
		"-X main.date=${BUILD_DATE}",
		"-o /out/squarebot",
		"./cmd/squarebot",
	} {
		if !strings.Contains(goBuild, part) {
			t.Errorf("go build command %q lacks %q", goBuild, part)
		}
	}
}

func TestDockerfileRuntimeStage(t *testing.T) {
	stages := parseDockerfile(t)
	runtime := stages[len(stages)-1]
	users := commands[*instructions.UserCommand](runtime)
	entrypoints := commands[*instructions.EntrypointCommand](runtime)
	cmds := commands[*instructions.CmdCommand](runtime)
	var exposed []string
	for _, c := range commands[*instructions.ExposeCommand](runtime) {
		exposed = append(exposed, c.Ports...)
	}

	if len(users) == 0 {
		t.Fatal("runtime stage sets no USER")
	}
	if err := checkNonRootUser(users[len(users)-1].User); err != nil {
		t.Error(err)
	}
	if len(entrypoints) != 1 {
		t.Fatalf("runtime stage has %d ENTRYPOINTs, expected 1", len(entrypoints))
	}
	if entrypoints[0].PrependShell {
		t.Errorf("ENTRYPOINT %q is in shell form, but the image has no shell", entrypoints[0].CmdLine)
	}
	if !slices.Equal(entrypoints[0].CmdLine, []string{binaryPath}) {
		t.Errorf("ENTRYPOINT = %q, expected [%q]", entrypoints[0].CmdLine, binaryPath)
	}
	if len(cmds) != 1 || cmds[0].PrependShell || !slices.Equal(cmds[0].CmdLine, []string{"serve"}) {
		t.Errorf("CMD = %+v, expected [\"serve\"] in exec form", cmds)
	}
	for _, port := range []string{"8080", "9090"} {
		if !slices.Contains(exposed, port) && !slices.Contains(exposed, port+"/tcp") {
			t.Errorf("EXPOSE %v lacks %s", exposed, port)
		}
	}
	if !copiesBinary(runtime, stages[0].Name) {
		t.Errorf("runtime stage does not copy /out/squarebot from stage %q to %s", stages[0].Name, binaryPath)
	}
}

// checkNonRootUser returns an error unless user is a numeric "uid" or
// "uid:gid" other than root. Kubernetes can enforce runAsNonRoot only for a
// numeric user.
func checkNonRootUser(user string) error {
	uid, gid, hasGroup := strings.Cut(user, ":")
	ids := []string{uid}
	if hasGroup {
		ids = append(ids, gid)
	}
	for _, id := range ids {
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil {
			return fmt.Errorf("USER %q is not numeric", user)
		}
		if n == 0 {
			return fmt.Errorf("USER %q is root", user)
		}
	}
	return nil
}

func TestDockerfileLabels(t *testing.T) {
	stages := parseDockerfile(t)
	runtime := stages[len(stages)-1]
	buildArgs := shell.EnvsFromSlice([]string{"VERSION=1.2.3", "COMMIT=0123abc", "BUILD_DATE=2026-01-02T03:04:05Z"})
	lex := shell.NewLex(parser.DefaultEscapeToken)
	labels := map[string]string{}
	for _, c := range commands[*instructions.LabelCommand](runtime) {
		for _, pair := range c.Labels {
			value, _, err := lex.ProcessWord(pair.Value, buildArgs)
			if err != nil {
				t.Fatalf("expanding LABEL %s: %v", pair.Key, err)
			}
			labels[pair.Key] = value
		}
	}

	if !declaresArg(runtime, "VERSION") {
		t.Error("runtime stage does not declare ARG VERSION, so its labels cannot use it")
	}
	want := map[string]string{
		"org.opencontainers.image.version":  "1.2.3",
		"org.opencontainers.image.revision": "0123abc",
		"org.opencontainers.image.created":  "2026-01-02T03:04:05Z",
		"org.opencontainers.image.source":   "https://github.com/lsst-sqre/squarebot",
		"org.opencontainers.image.title":    "squarebot",
	}
	for key, value := range want {
		if labels[key] != value {
			t.Errorf("LABEL %s expands to %q, expected %q", key, labels[key], value)
		}
	}
}

func declaresArg(stage instructions.Stage, name string) bool {
	for _, c := range commands[*instructions.ArgCommand](stage) {
		for _, arg := range c.Args {
			if arg.Key == name {
				return true
			}
		}
	}
	return false
}

func copiesBinary(stage instructions.Stage, from string) bool {
	for _, c := range commands[*instructions.CopyCommand](stage) {
		if c.From == from && slices.Equal(c.SourcePaths, []string{"/out/squarebot"}) && c.DestPath == binaryPath {
			return true
		}
	}
	return false
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	f, err := os.Open(dockerignorePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var patterns []string
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}

	for _, needed := range []string{"go.mod", "go.sum", "cmd", "pkg", "schemas", "*", "**", "*.go", "**/*.go"} {
		if slices.Contains(patterns, needed) {
			t.Errorf(".dockerignore excludes %q, which the build needs", needed)
		}
	}
	if !slices.Contains(patterns, ".git") {
		t.Error(".dockerignore does not exclude .git")
	}
}
