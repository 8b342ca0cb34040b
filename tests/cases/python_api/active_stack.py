# shared/reference/002_a5cc8431a9bd57ce.txt, "Accessing the Active Stack", verbatim but for the
# package name in the imports (zenml -> stackctl); paths are data and stay as written.

from stackctl.repository import Repository


repo = Repository()
active_stack = repo.active_stack
print(active_stack.name)
print(active_stack.orchestrator.name)
print(active_stack.artifact_store.name)
print(active_stack.artifact_store.path)
print(active_stack.metadata_store.name)
print(active_stack.metadata_store.uri)
