# shared/reference/002_a5cc8431a9bd57ce.txt, "Registering and Changing Stacks", verbatim but for the
# package name in the imports (zenml -> stackctl); paths are data and stay as written.

from stackctl.repository import Repository
from stackctl.artifact_stores import LocalArtifactStore
from stackctl.metadata_stores import SQLiteMetadataStore
from stackctl.orchestrators import LocalOrchestrator
from stackctl.stack import Stack


repo = Repository()

# Create a new orchestrator
orchestrator = LocalOrchestrator(name="local")

# Create a new metadata store
metadata_store = SQLiteMetadataStore(
    name="local",
    uri="/tmp/zenml/zenml.db",
)

# Create a new artifact store
artifact_store = LocalArtifactStore(
    name="local",
    path="/tmp/zenml/artifacts",
)

# Create a new stack with the new components
stack = Stack(
    name="local",
    orchestrator=orchestrator,
    metadata_store=metadata_store,
    artifact_store=artifact_store,
)

# Register the new stack in the currently active profile
repo.register_stack(stack)

# Set the stack as the active stack of the repository
repo.activate_stack(stack.name)
