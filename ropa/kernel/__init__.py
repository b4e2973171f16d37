"""The kernel: what every tier may import (problems, ...); it imports nothing of the project."""
