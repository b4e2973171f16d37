"""What tests share: worlds, clients, form posts, files and the environment of child processes. Tests import
from here, never from another test module or a conftest."""
