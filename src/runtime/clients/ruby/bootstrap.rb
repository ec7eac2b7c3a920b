# frozen_string_literal: true
#
# lambdabox's Ruby runtime client (stdlib only: socket, json; ruby 3.1+).
#
# Observable behaviour of AWS's aws_lambda_ric: _HANDLER is FILE.METHOD or FILE.CLASS.METHOD
# (CLASS may be Module::Class; METHOD is then a class-level method), FILE is required from the
# task root; the handler is called as handler(event:, context:) and its result sent as
# result.to_json (a StringIO/IO result is sent raw). Errors are {errorMessage, errorType:
# "Function<Class>" | "Init<Class>", stackTrace}; an init error is posted to /init/error and
# the process exits; NoMethodError/NameError and non-StandardError exceptions from the handler
# end the environment after being reported (as AWS does). Logger.new($stdout) gets AWS's
# format with the request id.
#
# Like the python and node clients it speaks HTTP/1.1 over one keep-alive socket to lambdabox's
# own Runtime API server (Content-Length bodies), reconnecting once on a stale connection.

require 'json'
require 'logger'
require 'socket'
require 'stringio'

$stdout.sync = true
$stderr.sync = true

module LambdaboxRuntime
  API = ENV.fetch('AWS_LAMBDA_RUNTIME_API', '127.0.0.1:9001')
  PREFIX = '/2018-06-01/runtime'

  # The Runtime API connection.
  class Client
    def initialize(address)
      host, port = address.split(':', 2)
      @host = host
      @port = Integer(port || 80)
      @sock = nil
    end

    def request(method, path, body = nil, headers = {})
      attempt = 0
      begin
        fresh = @sock.nil?
        connect if fresh
        send_request(method, path, body, headers)
        read_response
      rescue IOError, SystemCallError, EOFError
        close
        attempt += 1
        retry if !fresh && attempt == 1
        raise
      end
    end

    private

    def connect
      @sock = TCPSocket.new(@host, @port)
      @sock.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
      @sock.binmode
    end

    def close
      @sock&.close
    rescue IOError
      nil
    ensure
      @sock = nil
    end

    def send_request(method, path, body, headers)
      head = +"#{method} #{path} HTTP/1.1\r\nHost: #{@host}\r\nUser-Agent: lambdabox-ruby-runtime\r\n"
      headers.each { |k, v| head << "#{k}: #{v}\r\n" }
      head << "Content-Length: #{body.bytesize}\r\n" if body
      head << "\r\n"
      head = head.b
      head << body.b if body
      @sock.write(head)
    end

    def read_response
      status = @sock.gets("\r\n")
      raise EOFError, 'connection closed by the Runtime API' if status.nil?

      code = status.split(' ', 3)[1].to_i
      headers = {}
      while (line = @sock.gets("\r\n"))
        line = line.chomp("\r\n")
        break if line.empty?

        name, value = line.split(':', 2)
        headers[name.downcase] = value.to_s.strip
      end
      length = headers['content-length'].to_i
      body = length.positive? ? @sock.read(length) : +''
      raise EOFError, 'truncated body from the Runtime API' if body.nil? || body.bytesize < length

      close if headers['connection']&.casecmp?('close')
      [code, headers, body.force_encoding(Encoding::UTF_8)]
    end
  end

  # AWS's LambdaErrors::LambdaError shape.
  class LambdaError < StandardError
    STANDARD = %w[ArgumentError NoMethodError Exception StandardError NameError LoadError SystemExit
                  SystemStackError].freeze

    def initialize(original, classification = 'Function')
      @error_class = original.class.to_s
      @error_type = "#{classification}<#{original.class}>"
      @error_message = original.message
      @stack_trace = (original.backtrace_locations || []).first(100)
                                                        .take_while { |l| !l.to_s.start_with?(__dir__) }
                                                        .map(&:to_s)
      super(original.message)
    end

    def runtime_error_type
      STANDARD.include?(@error_class) ? @error_type : 'Function<UserException>'
    end

    def to_lambda_response
      { errorMessage: @error_message, errorType: @error_type, stackTrace: @stack_trace }
    end
  end

  class HandlerError < LambdaError; end
  class CriticalError < LambdaError; end

  # The context object (aws_lambda_ric's LambdaContext).
  class LambdaContext
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name,
                :function_name, :memory_limit_in_mb, :function_version, :identity, :tenant_id,
                :client_context, :deadline_ms

    def initialize(headers)
      @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
      @aws_request_id = headers['lambda-runtime-aws-request-id']
      @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
      @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
      @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
      @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
      @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
      @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
      @identity = parse(headers['lambda-runtime-cognito-identity'])
      @tenant_id = headers['lambda-runtime-aws-tenant-id'] unless headers['lambda-runtime-aws-tenant-id'].to_s.empty?
      @client_context = parse(headers['lambda-runtime-client-context'])
    end

    def get_remaining_time_in_millis
      remaining = @deadline_ms - Process.clock_gettime(Process::CLOCK_REALTIME, :millisecond)
      remaining.positive? ? remaining : 0
    end

    private

    def parse(value)
      return nil if value.to_s.empty?

      JSON.parse(value.dup.force_encoding(Encoding::UTF_8))
    rescue JSON::ParserError
      nil
    end
  end

  # AWS's log format for Logger.new($stdout): `I, [time #pid]  INFO <request id> -- : msg`.
  class LogFormatter < Logger::Formatter
    FORMAT = "%<sev>s, [%<datetime>s #%<process>d] %<severity>5s %<request_id>s -- %<progname>s: %<msg>s\n"

    def call(severity, time, progname, msg)
      text = format(FORMAT, sev: severity[0..0], datetime: format_datetime(time), process: $$,
                            severity: severity, request_id: $_global_aws_request_id, progname: progname,
                            msg: msg2str(msg))
      # one log event per call: inner newlines become \r (as AWS's framed sink keeps them together)
      "#{text.chomp.tr("\n", "\r")}\n"
    end
  end

  # Gives loggers writing to $stdout/$stderr the AWS format (aws_lambda_ric's LoggerPatch).
  module LoggerPatch
    def initialize(logdev, *args, **kwargs)
      kwargs[:formatter] ||= LogFormatter.new if logdev.nil? || logdev == $stdout || logdev == $stderr
      super(logdev, *args, **kwargs)
    end
  end
  Logger.prepend(LoggerPatch)

  def self.log_error(message, err)
    text = "#{message}\n#{JSON.pretty_generate(err.to_lambda_response)}"
    $stdout.write("#{text.tr("\n", "\r")}\n")
  end

  # The handler named by _HANDLER.
  class Handler
    attr_reader :file

    def initialize(spec)
      parts = spec.to_s.split('.')
      case parts.size
      when 2 then @file, @method = parts
      when 3 then @file, @klass, @method = parts
      else
        raise ArgumentError, "Invalid handler #{parts}, must be of form FILENAME.METHOD or FILENAME.CLASS.METHOD where FILENAME corresponds with an existing Ruby source file FILENAME.rb, CLASS is an optional module/class namespace and METHOD is a callable method. If using CLASS, METHOD must be a class-level method."
      end
    end

    def call(event, context)
      opts = { event: event, context: context }
      result = if @klass
                 Kernel.const_get(@klass).send(@method, **opts)
               else
                 TOPLEVEL_BINDING.receiver.send(@method, **opts)
               end
      case result
      when StringIO, IO then [result.read, 'application/unknown']
      else [result.to_json, 'application/json']
      end
    rescue NoMethodError, NameError => e
      raise CriticalError, e
    rescue StandardError => e
      raise HandlerError, e
    rescue Exception => e # rubocop:disable Lint/RescueException
      raise CriticalError, e
    end
  end

  def self.run
    client = Client.new(API)
    root = ENV.fetch('LAMBDA_TASK_ROOT', Dir.pwd)
    $LOAD_PATH.unshift(root) unless $LOAD_PATH.include?(root)
    begin
      handler = Handler.new(ENV['_HANDLER'])
      require handler.file
    rescue Exception => e # rubocop:disable Lint/RescueException
      err = LambdaError.new(e, 'Init')
      log_error("Init error when loading handler #{ENV['_HANDLER']}", err)
      client.request('POST', "#{PREFIX}/init/error", err.to_lambda_response.to_json,
                     'Lambda-Runtime-Function-Error-Type' => err.runtime_error_type,
                     'Content-Type' => 'application/json')
      exit(-4)
    end
    loop do
      code, headers, body = client.request('GET', "#{PREFIX}/invocation/next")
      exit(1) unless code == 200
      id = headers['lambda-runtime-aws-request-id']
      $_global_aws_request_id = id
      trace = headers['lambda-runtime-trace-id']
      if trace
        ENV['_X_AMZN_TRACE_ID'] = trace
      else
        ENV.delete('_X_AMZN_TRACE_ID')
      end
      begin
        event = headers['content-type'] == 'application/json' || headers['content-type'].nil? ? JSON.parse(body) : body
        payload, type = handler.call(event, LambdaContext.new(headers))
        client.request('POST', "#{PREFIX}/invocation/#{id}/response", payload, 'Content-Type' => type)
      rescue HandlerError, CriticalError => e
        critical = e.is_a?(CriticalError)
        log_error(critical ? 'Critical exception from handler' : 'Error raised from handler method', e)
        client.request('POST', "#{PREFIX}/invocation/#{id}/error", e.to_lambda_response.to_json,
                       'Lambda-Runtime-Function-Error-Type' => e.runtime_error_type,
                       'Content-Type' => 'application/json')
        exit(-1) if critical
      rescue JSON::ParserError => e
        err = LambdaError.new(e, 'Runtime')
        client.request('POST', "#{PREFIX}/invocation/#{id}/error", err.to_lambda_response.to_json,
                       'Lambda-Runtime-Function-Error-Type' => 'Runtime.UnmarshalError',
                       'Content-Type' => 'application/json')
      end
    end
  end
end

LambdaboxRuntime.run
