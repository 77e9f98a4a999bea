package main

// The image map stands in for a registry and a container runtime: an image reference
// resolves to a local command, or the pull fails exactly as an unknown image would.

import (
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

type imageEntry struct {
	// Image is the repository part of a reference, without tag or digest ("adci/echo").
	Image      string            `json:"image"`
	Command    []string          `json:"command"`
	Args       []string          `json:"args"`
	Env        map[string]string `json:"env"`
	WorkingDir string            `json:"workingDir"`
}

type imageMap struct {
	Images []imageEntry `json:"images"`
}

type resolvedImage struct {
	Command    []string
	Args       []string
	Env        map[string]string
	WorkingDir string
	Tag        string
}

type imageResolver struct {
	path string
	// vars fill {repo}, {node} and the like in the map's strings.
	vars map[string]string
}

// splitImage returns repository and tag (tag "latest" when absent; a digest counts as the tag).
func splitImage(ref string) (string, string) {
	if at := strings.Index(ref, "@"); at >= 0 {
		return ref[:at], ref[at+1:]
	}
	lastSlash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > lastSlash {
		return ref[:colon], ref[colon+1:]
	}
	return ref, "latest"
}

func normalizeRepository(repo string) string {
	for _, prefix := range []string{"docker.io/library/", "docker.io/", "index.docker.io/"} {
		if strings.HasPrefix(repo, prefix) {
			return strings.TrimPrefix(repo, prefix)
		}
	}
	return repo
}

// Resolve re-reads the map on every pull, so editing images.yaml takes effect like a push would.
func (r *imageResolver) Resolve(ref string) (*resolvedImage, error) {
	data, err := os.ReadFile(r.path)
	if err != nil {
		return nil, fmt.Errorf("read image map: %w", err)
	}
	var m imageMap
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("parse image map %s: %w", r.path, err)
	}
	repo, tag := splitImage(ref)
	repo = normalizeRepository(repo)
	for _, entry := range m.Images {
		if normalizeRepository(entry.Image) != repo {
			continue
		}
		vars := map[string]string{"tag": tag, "image": ref}
		for k, v := range r.vars {
			vars[k] = v
		}
		out := &resolvedImage{Tag: tag, Env: map[string]string{}}
		for _, s := range entry.Command {
			out.Command = append(out.Command, expandVars(s, vars))
		}
		for _, s := range entry.Args {
			out.Args = append(out.Args, expandVars(s, vars))
		}
		for k, v := range entry.Env {
			out.Env[k] = expandVars(v, vars)
		}
		out.WorkingDir = expandVars(entry.WorkingDir, vars)
		return out, nil
	}
	return nil, fmt.Errorf("pull access denied for %s: repository %q is not in the image map %s", ref, repo, r.path)
}

func expandVars(s string, vars map[string]string) string {
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}
