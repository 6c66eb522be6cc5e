"""WMIL: World-Model Interactive Learning. Importing the package registers its Gymnasium environments."""
__version__ = "0.1.0"

from .env import register_envs as _register_envs
_register_envs()
