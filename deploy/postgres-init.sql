-- Rasa keeps its tracker store in its own database next to the app's.
CREATE DATABASE rasa_tracker OWNER mjolby;
