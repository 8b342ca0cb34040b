"""The manifest compiler: discover, render and load manifests, keeping file:line:col."""
