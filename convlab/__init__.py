"""convlab: convolutional layers taught through data and controlled experiments."""

__version__ = "0.1.0"
